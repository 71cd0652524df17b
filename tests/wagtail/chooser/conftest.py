"""The Generate tab's tests: a Wagtail editor (the "Editors" group Wagtail's migrations make),
the sandbox as BabySea, an article page to choose an image for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client, override_settings
from wagtail.models import GroupPagePermission, Page

from django_babysea.sandbox import Sandbox
from django_babysea.services import refresh_catalog
from django_babysea.services.connection import clear_clients
from tests.services.conftest import sandbox_settings

GENERATE = "/cms/babysea-chooser/generate/"
ESTIMATE = "/cms/babysea-chooser/estimate/"
MODEL = "bfl/flux-schnell"
PROMPT = "A lighthouse on a basalt cliff at dusk, gulls overhead"


def make_editor(username: str = "editor", *, publish: bool = False) -> Any:
    """A Wagtail editor: no superuser, the "Editors" group of a fresh Wagtail site (admin
    access, add/change/choose images in the root collection, add/change pages) and, with
    ``publish``, the right to publish pages too."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username, password="pw")
    user.groups.add(Group.objects.get(name="Editors"))
    if publish:
        publishers, _ = Group.objects.get_or_create(name="Publishers")
        GroupPagePermission.objects.get_or_create(
            group=publishers,
            page=Page.get_first_root_node(),
            permission=Permission.objects.get(codename="publish_page"),
        )
        user.groups.add(publishers)
    return user


def make_article(title: str = "Lighthouses of the north", intro: str = "") -> Any:
    from tests.wagtail.cms.models import ArticlePage

    root = Page.objects.get(depth=2)  # the site's home (Wagtail's welcome page)
    article = ArticlePage(title=title, intro=intro, slug=title.lower().replace(" ", "-")[:50])
    root.add_child(instance=article)
    return article


@pytest.fixture
def settings_for(babysea_sandbox: Sandbox) -> Iterator[Any]:
    """``settings_for(**overrides)``: ``BABYSEA`` pointing at the sandbox, plus overrides."""
    babysea_sandbox.auto_advance = False
    active: list[Any] = []

    def apply(**overrides: Any) -> None:
        for override in active:
            override.disable()
        active.clear()
        override = override_settings(BABYSEA=sandbox_settings(babysea_sandbox, **overrides))
        override.enable()
        active.append(override)

    apply()
    yield apply
    for override in active:
        override.disable()
    clear_clients()


@pytest.fixture
def sandbox(babysea_sandbox: Sandbox, settings_for: Any) -> Sandbox:
    refresh_catalog()
    return babysea_sandbox


@pytest.fixture
def editor(transactional_db: None) -> Any:
    return make_editor()


@pytest.fixture
def editor_client(editor: Any) -> Client:
    client = Client()
    client.force_login(editor)
    return client
