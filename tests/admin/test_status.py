"""The admin's JSON status view behind the change list's live pills."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_babysea.admin import GenerationAdmin
from django_babysea.models import Generation, GenerationStatus

from .conftest import make_staff

pytestmark = pytest.mark.django_db

URL = "/admin/django_babysea/generation/status/"


def make(status: str = GenerationStatus.PROCESSING, **fields: Any) -> Generation:
    return Generation.objects.create(kind="image", model_identifier="m/x", status=status, **fields)


def ask(client: Client, *rows: Any, **headers: str) -> Any:
    return client.get(URL, {"ids": ",".join(str(getattr(r, "pk", r)) for r in rows)}, **headers)


def test_answers_statuses_with_an_etag_then_304(viewer_client: Client) -> None:
    running, done = make(), make(GenerationStatus.SUCCEEDED)
    response = ask(viewer_client, running, done)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "generations": {
            str(running.pk): {"status": "processing", "label": "Processing", "terminal": False},
            str(done.pk): {"status": "succeeded", "label": "Succeeded", "terminal": True},
        }
    }
    etag = response["ETag"]
    assert etag.startswith('"')
    assert "private" in response["Cache-Control"]

    again = ask(viewer_client, running, done, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag

    Generation.objects.filter(pk=running.pk).update(status=GenerationStatus.FAILED)
    changed = ask(viewer_client, running, done, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["generations"][str(running.pk)]["status"] == "failed"


def test_one_query(viewer_client: Client) -> None:
    rows = [make() for _ in range(30)]
    ask(viewer_client, *rows)  # warm the session and user lookups out of the way
    with CaptureQueriesContext(connection) as captured:
        response = ask(viewer_client, *rows)
    assert response.status_code == 200
    generation_queries = [q for q in captured if "babysea_generation" in q["sql"]]
    assert len(generation_queries) == 1
    assert len(response.json()["generations"]) == 30


def test_needs_view_permission(db: None) -> None:
    make()
    client = Client()
    client.force_login(make_staff("stranger", "view_creditevent"))
    response = ask(client, make())
    assert response.status_code == 403
    assert "error" in response.json()
    anonymous = Client().get(URL, {"ids": str(uuid.uuid4())})
    assert anonymous.status_code == 302  # to the admin login


def test_only_rows_the_admin_shows(viewer: Any, viewer_client: Client, monkeypatch: Any) -> None:
    """A site that narrows get_queryset (e.g. to the user's own rows) narrows the status too."""
    mine, theirs = make(owner=viewer), make()
    original = GenerationAdmin.get_queryset

    def own_rows(self: Any, request: Any) -> Any:
        return original(self, request).filter(owner=request.user)

    monkeypatch.setattr(GenerationAdmin, "get_queryset", own_rows)
    response = ask(viewer_client, mine, theirs)
    assert list(response.json()["generations"]) == [str(mine.pk)]


@pytest.mark.parametrize("ids", ["nope", "1,2,3", f"{uuid.uuid4()},x"])
def test_bad_ids_are_a_400_with_a_message(viewer_client: Client, ids: str) -> None:
    response = viewer_client.get(URL, {"ids": ids})
    assert response.status_code == 400
    assert response.json()["error"]


def test_too_many_ids(viewer_client: Client) -> None:
    response = viewer_client.get(URL, {"ids": ",".join(str(uuid.uuid4()) for _ in range(501))})
    assert response.status_code == 400


def test_no_ids_is_an_empty_answer(viewer_client: Client) -> None:
    response = viewer_client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"generations": {}}
