"""Users for the admin tests: a superuser, an editor with every BabySea permission, a viewer."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

BABYSEA_ACTIONS = (
    "submit_generation",
    "cancel_generation",
    "delete_remote_generation",
    "refresh_generation",
    "copy_generation_outputs",
    "sync_generations",
    "replay_webhookdelivery",
)


def make_staff(username: str, *codenames: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_babysea", codename__in=codenames)
    )
    return user


@pytest.fixture
def editor(db: None) -> Any:
    """Staff with every permission on the app's models and every BabySea action."""
    view_change = [
        f"{verb}_{model}"
        for verb in ("view", "add", "change")
        for model in ("generation", "creditevent", "webhookdelivery", "catalogmodel", "dashboard")
    ]
    return make_staff("editor", *view_change, *BABYSEA_ACTIONS)


@pytest.fixture
def viewer(db: None) -> Any:
    """Staff who may only look."""
    return make_staff(
        "viewer",
        "view_generation",
        "view_creditevent",
        "view_webhookdelivery",
        "view_catalogmodel",
        "view_dashboard",
    )


@pytest.fixture
def editor_client(editor: Any) -> Client:
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(viewer: Any) -> Client:
    client = Client()
    client.force_login(viewer)
    return client
