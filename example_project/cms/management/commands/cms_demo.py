"""``manage.py cms_demo --password PW``: what the Wagtail demo starts with.

A home page (in place of Wagtail's welcome page) with one article, and the editor ``editor``:
not a superuser, in Wagtail's "Editors" group (admin access, images and pages) and allowed to
publish. Run on a new database; running it again changes nothing but the password.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from wagtail.models import GroupPagePermission, Page, Site

from cms.models import ArticlePage, HomePage

EDITOR = "editor"


class Command(BaseCommand):
    help = "Create the Wagtail demo's pages and its editor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", required=True, help="the editor's password")

    @transaction.atomic
    def handle(self, *args: Any, password: str, **options: Any) -> None:
        home = self.home_page()
        if not ArticlePage.objects.exists():
            home.add_child(
                instance=ArticlePage(
                    title="Lighthouses of the north",
                    slug="lighthouses",
                    intro="Five towers on basalt cliffs that still keep their lamps lit "
                    "through the winter storms.",
                )
            ).save_revision().publish()
        self.editor(password)

    def home_page(self) -> HomePage:
        home = HomePage.objects.first()
        if home is not None:
            return home
        root = Page.get_first_root_node()
        welcome = Page.objects.filter(depth=2, slug="home").first()
        if welcome is not None:  # Wagtail's placeholder: its slug is the one we want
            welcome.slug = "welcome"
            welcome.save()
        home = HomePage(title="Northern coasts", slug="home", intro="Stories from the coast.")
        root.add_child(instance=home)
        home.save_revision().publish()
        Site.objects.update_or_create(
            is_default_site=True,
            defaults={"root_page": home, "hostname": "localhost", "site_name": "Northern coasts"},
        )
        if welcome is not None:
            welcome.delete()
        return home

    def editor(self, password: str) -> None:
        user, _ = get_user_model().objects.get_or_create(
            username=EDITOR, defaults={"email": "editor@example.com"}
        )
        user.set_password(password)
        user.save()
        publishers, _ = Group.objects.get_or_create(name="Publishers")
        GroupPagePermission.objects.get_or_create(
            group=publishers,
            page=Page.get_first_root_node(),
            permission=Permission.objects.get(codename="publish_page"),
        )
        user.groups.add(Group.objects.get(name="Editors"), publishers)
