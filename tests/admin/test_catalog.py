"""The cached catalog in the admin, its refresh button, and ``babysea_sync --catalog``."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.utils import timezone

from django_babysea.models import CatalogModel
from django_babysea.sandbox import Sandbox
from django_babysea.services.connection import clear_clients
from tests.services.conftest import no_remote_call_in_a_transaction, sandbox, sandbox_settings

from .conftest import make_staff

__all__ = ["no_remote_call_in_a_transaction", "sandbox"]

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/django_babysea/catalogmodel/"
REFRESH = CHANGELIST + "refresh/"


def test_changelist_has_the_refresh_button_and_no_remote_call(
    sandbox: Sandbox, editor_client: Client
) -> None:
    CatalogModel.objects.create(
        model_identifier="bfl/flux-schnell",
        kind="image",
        health="healthy",
        fetched_at=timezone.now(),
    )
    response = editor_client.get(CHANGELIST)
    assert response.status_code == 200
    assert REFRESH.encode() in response.content
    assert b"bfl/flux-schnell" in response.content
    assert sandbox.received() == []


def test_refresh_button_fetches_the_catalog(sandbox: Sandbox, editor_client: Client) -> None:
    response = editor_client.post(REFRESH)
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert CatalogModel.objects.count() == 25
    page = editor_client.get(CHANGELIST)
    assert b"Catalog refreshed: 25 models." in page.content


def test_refresh_button_goes_back_to_a_safe_next_only(
    sandbox: Sandbox, editor_client: Client
) -> None:
    response = editor_client.post(REFRESH, {"next": "https://evil.example/"})
    assert response["Location"] == CHANGELIST
    response = editor_client.post(REFRESH, {"next": "/admin/django_babysea/generation/add/"})
    assert response["Location"] == "/admin/django_babysea/generation/add/"


def test_refresh_needs_the_sync_permission(sandbox: Sandbox, viewer_client: Client) -> None:
    assert viewer_client.post(REFRESH).status_code == 403
    assert REFRESH.encode() not in viewer_client.get(CHANGELIST).content
    assert CatalogModel.objects.count() == 0


def test_refresh_when_unreachable_is_a_message(sandbox: Sandbox, editor_client: Client) -> None:
    with override_settings(BABYSEA=sandbox_settings(sandbox, BASE_URL="http://127.0.0.1:9")):
        response = editor_client.post(REFRESH, follow=True)
    clear_clients()
    assert response.status_code == 200
    assert b"The catalog could not be refreshed" in response.content
    assert sandbox.api_key.encode() not in response.content


def test_catalog_rows_are_read_only(editor: Any, sandbox: Sandbox) -> None:
    client = Client()
    client.force_login(editor)
    row = CatalogModel.objects.create(
        model_identifier="bfl/flux-schnell", kind="image", fetched_at=timezone.now()
    )
    assert client.get(CHANGELIST + "add/").status_code == 403
    assert client.post(f"{CHANGELIST}{row.pk}/change/", {"kind": "video"}).status_code == 403
    assert CatalogModel.objects.get().kind == "image"


def test_sync_command_refreshes_the_catalog(sandbox: Sandbox) -> None:
    out = StringIO()
    call_command("babysea_sync", "--catalog", stdout=out)
    assert out.getvalue().strip() == "Catalog refreshed: 25 models."
    assert CatalogModel.objects.filter(available=True).count() == 25
    assert not [r for r in sandbox.received() if r["path"].startswith("/v1/content")]


def test_sync_command_unreachable_is_one_line(sandbox: Sandbox) -> None:
    unreachable = sandbox_settings(sandbox, BASE_URL="http://127.0.0.1:9")
    with override_settings(BABYSEA=unreachable), pytest.raises(CommandError) as caught:
        call_command("babysea_sync", "--catalog")
    clear_clients()
    assert "\n" not in str(caught.value)


def test_staff_without_sync_cannot_refresh(sandbox: Sandbox) -> None:
    client = Client()
    client.force_login(make_staff("reader", "view_catalogmodel", "view_generation"))
    assert client.post(REFRESH).status_code == 403
