"""Acting through the API: create (validated, idempotent), cancel, delete, and isolation."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient  # type: ignore[import-untyped]

from django_babysea.models import Generation, GenerationStatus
from django_babysea.sandbox import Sandbox
from tests.admin.conftest import make_staff

from .conftest import MODEL, PROMPT, client_for, finished, running, url

pytestmark = pytest.mark.django_db(transaction=True)


def creates(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.received() if r["method"] == "POST" and "generate" in r["path"]]


def create(client: APIClient, key: str | None = None, **body: Any) -> Any:
    body.setdefault("model", MODEL)
    body.setdefault("generation_prompt", PROMPT)
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(url("generations"), body, format="json", **headers)


def test_create_submits_for_the_user(catalog: Sandbox, alice: Any, alice_client: APIClient) -> None:
    response = create(alice_client, generation_ratio="16:9")
    assert response.status_code == 201, response.json()
    body = response.json()
    generation = Generation.objects.get(pk=body["id"])
    assert generation.owner == alice
    assert generation.generation_id is not None
    assert body["status"] == "pending"
    assert generation.request["generation_ratio"] == "16:9"
    assert len(creates(catalog)) == 1


def test_same_idempotency_key_returns_the_same_generation(
    catalog: Sandbox, alice_client: APIClient, bob_client: APIClient
) -> None:
    first = create(alice_client, key="order-42")
    again = create(alice_client, key="order-42")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Generation.objects.count() == 1
    assert len(creates(catalog)) == 1
    # Another user's key of the same text is theirs alone.
    other = create(bob_client, key="order-42")
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    # The same key with another body is a conflict, not a silent replay.
    conflict = create(alice_client, key="order-42", generation_prompt="Something else")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"
    assert Generation.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"generation_prompt": ""}, "generation_prompt"),
        ({"generation_ratio": "7:3"}, "generation_ratio"),
        ({"model": "nobody/nothing"}, "model"),
        ({"model": ""}, "model"),
        ({"prompt": "no prefix"}, "prompt"),
    ],
)
def test_validation_errors_per_field(
    catalog: Sandbox, alice_client: APIClient, body: dict[str, Any], field: str
) -> None:
    response = create(alice_client, **body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert not Generation.objects.exists()
    assert not creates(catalog)


def test_video_without_duration_is_refused(catalog: Sandbox, alice_client: APIClient) -> None:
    response = create(alice_client, model="google/veo-2")
    assert response.status_code == 400
    assert "generation_duration" in response.json()["errors"]


def test_malformed_idempotency_key(catalog: Sandbox, alice_client: APIClient) -> None:
    response = create(alice_client, key="spaces are not allowed")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Generation.objects.exists()


def test_non_object_body(catalog: Sandbox, alice_client: APIClient) -> None:
    response = alice_client.post(url("generations"), [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_cancel_own_generation(sandbox: Sandbox, alice: Any, alice_client: APIClient) -> None:
    generation = running(sandbox, alice)
    response = alice_client.post(url("generation-cancel", generation.pk))
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    generation.refresh_from_db()
    assert generation.status == GenerationStatus.CANCELED


def test_cancel_finished_generation_is_a_conflict(
    sandbox: Sandbox, alice: Any, alice_client: APIClient
) -> None:
    generation = finished(sandbox, alice)
    response = alice_client.post(url("generation-cancel", generation.pk))
    assert response.status_code == 409
    assert response.json()["code"] == "not_cancelable"


def test_delete_removes_remote_files_and_local_copies(
    sandbox: Sandbox, alice: Any, alice_client: APIClient
) -> None:
    generation = finished(sandbox, alice)
    output = generation.outputs.get()
    from django.core.files.storage import storages

    assert storages[output.storage].exists(output.name)
    response = alice_client.delete(url("generation", generation.pk))
    assert response.status_code == 200
    assert response.json()["removed"] is True
    assert not storages[output.storage].exists(output.name)
    deletes = [r for r in sandbox.received() if r["method"] == "DELETE"]
    assert len(deletes) == 1


def test_delete_running_generation_is_a_conflict(
    sandbox: Sandbox, alice: Any, alice_client: APIClient
) -> None:
    generation = running(sandbox, alice)
    response = alice_client.delete(url("generation", generation.pk))
    assert response.status_code == 409
    assert response.json()["code"] == "not_deletable"
    assert not [r for r in sandbox.received() if r["method"] == "DELETE"]


def test_other_users_cannot_cancel_or_delete(
    sandbox: Sandbox, alice: Any, bob_client: APIClient
) -> None:
    generation = finished(sandbox, alice)
    before = len(sandbox.received())
    assert bob_client.post(url("generation-cancel", generation.pk)).status_code == 404
    assert bob_client.delete(url("generation", generation.pk)).status_code == 404
    assert len(sandbox.received()) == before
    generation.refresh_from_db()
    assert generation.removed is False


def test_viewer_without_action_permissions_is_forbidden(sandbox: Sandbox, alice: Any) -> None:
    generation = running(sandbox, alice)
    viewer = client_for(make_staff("viewer", "view_generation"))
    assert viewer.get(url("generation", generation.pk)).status_code == 200
    response = viewer.post(url("generation-cancel", generation.pk))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    generation.refresh_from_db()
    assert generation.status == GenerationStatus.PENDING


def test_staff_with_cancel_permission_may_cancel_others(sandbox: Sandbox, alice: Any) -> None:
    generation = running(sandbox, alice)
    staff = client_for(make_staff("ops", "view_generation", "cancel_generation"))
    response = staff.post(url("generation-cancel", generation.pk))
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"


def test_create_fetches_a_missing_catalog_first(sandbox: Sandbox, alice_client: APIClient) -> None:
    response = create(alice_client)
    assert response.status_code == 201, response.json()
    assert len(creates(sandbox)) == 1


def test_create_without_catalog_and_babysea_down_is_503(
    sandbox: Sandbox, alice_client: APIClient
) -> None:
    sandbox.inject({"kind": "drop", "path": "/v1/library/models", "times": None})
    response = create(alice_client)
    assert response.status_code == 503
    assert response.json()["code"] == "catalog_unavailable"
    assert not Generation.objects.exists()


def test_delete_of_a_generation_babysea_never_accepted(
    sandbox: Sandbox, alice: Any, alice_client: APIClient
) -> None:
    generation = Generation.objects.create(
        owner=alice, kind="image", model_identifier=MODEL, status=GenerationStatus.CANCELED
    )
    response = alice_client.delete(url("generation", generation.pk))
    assert response.status_code == 409
    assert response.json()["code"] == "not_sent"


def test_cancel_when_babysea_is_down_is_503(
    sandbox: Sandbox, alice: Any, alice_client: APIClient
) -> None:
    generation = running(sandbox, alice)
    sandbox.inject({"kind": "drop", "path": "/v1/content/generation/cancel/*"})
    response = alice_client.post(url("generation-cancel", generation.pk))
    assert response.status_code == 503
    assert response.json()["code"] == "babysea_unavailable"
