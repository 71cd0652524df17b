"""The BabySea permissions in Wagtail's group editor, and the audit-log actions registered."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from wagtail.log_actions import registry

from .conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_group_editor_offers_the_babysea_permissions(transactional_db: None) -> None:
    admin = get_user_model().objects.create_superuser("admin", password="pw")

    html = client_for(admin).get("/cms/groups/new/").content.decode().replace("&#x27;", "'")

    assert "<h3>Generation</h3>" in html
    for label in (
        "Can submit generations to BabySea (spends credits)",
        "Can cancel generations at BabySea",
        "Can delete generations' files at BabySea",
    ):
        assert label in html, label
    perms = {p.codename: p.pk for p in Permission.objects.filter(content_type__model="generation")}
    assert f'value="{perms["view_generation"]}"' in html  # the "View" column
    assert f'value="{perms["change_generation"]}"' not in html  # rows are the Django admin's


def test_the_log_actions_are_registered() -> None:
    for action in (
        "babysea_wagtail.generate",
        "babysea_wagtail.import",
        "babysea_wagtail.cancel",
        "babysea_wagtail.delete",
    ):
        assert registry.action_exists(action), action
