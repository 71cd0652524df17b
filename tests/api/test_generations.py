"""Reading generations through the API: lists, filters, pagination, detail, status polling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient  # type: ignore[import-untyped]

from django_babysea.models import Generation, GenerationKind, GenerationStatus
from django_babysea.sandbox import Sandbox
from tests.admin.conftest import make_staff

from .conftest import MODEL, PROMPT, client_for, finished, running, url

pytestmark = pytest.mark.django_db(transaction=True)


def local(owner: Any, **fields: Any) -> Generation:
    """A row that never went to BabySea (enough for reading)."""
    fields.setdefault("kind", GenerationKind.IMAGE)
    fields.setdefault("model_identifier", MODEL)
    fields.setdefault("prompt", PROMPT)
    return Generation.objects.create(owner=owner, **fields)


def ids(response: Any) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def test_list_shows_only_own_generations(
    alice: Any, bob: Any, alice_client: APIClient, bob_client: APIClient
) -> None:
    mine = local(alice)
    theirs = local(bob)
    response = alice_client.get(url("generations"))
    assert response.status_code == 200
    assert ids(response) == {str(mine.pk)}
    assert ids(bob_client.get(url("generations"))) == {str(theirs.pk)}


def test_staff_with_view_permission_sees_all(alice: Any, bob: Any) -> None:
    rows = {str(local(alice).pk), str(local(bob).pk)}
    viewer = client_for(make_staff("viewer", "view_generation"))
    assert ids(viewer.get(url("generations"))) == rows


def test_another_users_generation_is_not_found(
    alice: Any, alice_client: APIClient, bob_client: APIClient
) -> None:
    generation = local(alice)
    assert alice_client.get(url("generation", generation.pk)).status_code == 200
    for path in (url("generation", generation.pk), url("generation-status", generation.pk)):
        response = bob_client.get(path)
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "detail": "Not found."}
    assert bob_client.get(url("generation", "not-a-uuid")).status_code == 404


def test_pagination(alice: Any, alice_client: APIClient) -> None:
    for _ in range(5):
        local(alice)
    first = alice_client.get(url("generations"), {"page_size": 2}).json()
    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["next"]
    last = alice_client.get(url("generations"), {"page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1
    assert last["next"] is None


def test_filters(alice: Any, alice_client: APIClient) -> None:
    image = local(alice, status=GenerationStatus.SUCCEEDED)
    video = local(alice, kind=GenerationKind.VIDEO, model_identifier="google/veo-2")
    old = local(alice, status=GenerationStatus.FAILED)
    Generation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    get = alice_client.get
    assert ids(get(url("generations"), {"status": "succeeded"})) == {str(image.pk)}
    assert ids(get(url("generations"), {"status": ["succeeded", "failed"]})) == {
        str(image.pk),
        str(old.pk),
    }
    assert ids(get(url("generations"), {"kind": "video"})) == {str(video.pk)}
    assert ids(get(url("generations"), {"model": "google/veo-2"})) == {str(video.pk)}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(get(url("generations"), {"created_after": since})) == {
        str(image.pk),
        str(video.pk),
    }
    assert ids(get(url("generations"), {"created_before": since})) == {str(old.pk)}
    bad = get(url("generations"), {"status": "exploded"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert "status" in bad.json()["errors"]


def test_detail_and_list_show_stored_urls_never_babysea_urls(
    sandbox: Sandbox, alice: Any, alice_client: APIClient
) -> None:
    generation = finished(sandbox, alice)
    output = generation.outputs.get()
    assert output.is_stored
    body = alice_client.get(url("generation", generation.pk)).json()
    assert body["status"] == "succeeded"
    assert body["outputs"][0]["url"] == output.url
    assert body["outputs"][0]["url"].startswith("/media/")
    assert body["outputs"][0]["width"] == output.width
    listed = alice_client.get(url("generations")).content.decode()
    for text in (listed, str(body)):
        assert output.source_url not in text
        assert sandbox.url not in text


def test_list_query_count_does_not_grow_with_the_page(
    sandbox: Sandbox, alice: Any, alice_client: APIClient
) -> None:
    finished(sandbox, alice)
    with CaptureQueriesContext(connection) as one:
        assert alice_client.get(url("generations")).status_code == 200
    for _ in range(3):
        finished(sandbox, alice)
    with CaptureQueriesContext(connection) as four:
        assert len(alice_client.get(url("generations")).json()["results"]) == 4
    assert len(four) == len(one)


def test_status_polling_with_etag(sandbox: Sandbox, alice: Any, alice_client: APIClient) -> None:
    generation = running(sandbox, alice)
    path = url("generation-status", generation.pk)
    first = alice_client.get(path)
    assert first.status_code == 200
    assert first.json() == {
        "id": str(generation.pk),
        "status": "pending",
        "error_code": "",
        "error_message": "",
        "outputs": [],
    }
    etag = first["ETag"]
    unchanged = alice_client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged["ETag"] == etag
    assert alice_client.get(path, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert alice_client.get(path, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    sandbox.advance(str(generation.generation_id), to="succeeded")
    from django_babysea.services import refresh_generation

    stored = refresh_generation(generation).outputs.get()
    changed = alice_client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["status"] == "succeeded"
    assert changed.json()["outputs"][0]["url"] == stored.url


def test_models_lists_the_cached_catalog(catalog: Sandbox, alice_client: APIClient) -> None:
    before = len(catalog.received())
    body = alice_client.get(url("models")).json()
    assert body["stale"] is False
    models = {row["model_identifier"]: row for row in body["models"]}
    assert models[MODEL]["kind"] == "image"
    assert models["google/veo-2"]["kind"] == "video"
    assert len(catalog.received()) == before  # fresh cache: no remote call


@pytest.mark.parametrize("name", ["generations", "models", "estimate", "budget"])
def test_anonymous_is_refused(name: str) -> None:
    response = APIClient().get(url(name))
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"
