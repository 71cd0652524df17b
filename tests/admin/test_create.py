"""Creating a generation in the admin: model choice, fields per model, validation, submit."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from django_babysea.models import CatalogModel, Generation
from django_babysea.sandbox import Sandbox
from django_babysea.services import refresh_catalog
from django_babysea.services.connection import clear_clients
from tests.services.conftest import (
    PROMPT,
    no_remote_call_in_a_transaction,
    sandbox,
    sandbox_settings,
)

from .conftest import make_staff

__all__ = ["no_remote_call_in_a_transaction", "sandbox"]

pytestmark = pytest.mark.django_db(transaction=True)

ADD = "/admin/django_babysea/generation/add/"


@pytest.fixture
def catalog(sandbox: Sandbox) -> Sandbox:
    refresh_catalog()
    return sandbox


def creates(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.received() if r["method"] == "POST" and "generate" in r["path"]]


def form_of(client: Client, model: str, **query: str) -> Any:
    response = client.get(ADD, {"model": model, **query})
    assert response.status_code == 200
    return response.context["form"]


def post(client: Client, model: str, token: str, **fields: Any) -> Any:
    return client.post(f"{ADD}?model={model}", {"model": model, "form_token": token, **fields})


def test_step_one_lists_models_by_kind_with_price_and_health(
    catalog: Sandbox, editor_client: Client
) -> None:
    response = editor_client.get(ADD)
    assert response.status_code == 200
    groups = dict(response.context["groups"])
    assert {m.model_identifier for m, _ in groups["Image models"]} >= {"qwen/image"}
    assert {m.model_identifier for m, _ in groups["Video models"]} >= {"google/veo-2"}
    html = response.content.decode()
    assert "0.005 credits per output" in html
    assert "babysea-health-healthy" in html
    assert '?model=bfl/flux-schnell"' in html


def test_image_model_fields(catalog: Sandbox, editor_client: Client) -> None:
    form = form_of(editor_client, "bfl/flux-schnell")
    assert set(form.fields) == {
        "form_token",
        "generation_prompt",
        "generation_ratio",
        "generation_output_format",
        "generation_provider_order",
        "generation_seed",
    }
    assert [c for c, _ in form.fields["generation_provider_order"].choices] == [
        "",
        "fastest",
        "bfl, replicate, cloudflare",
    ]


def test_video_model_fields(catalog: Sandbox, editor_client: Client) -> None:
    form = form_of(editor_client, "bytedance/seedance-1.5-pro")
    assert {
        "generation_duration",
        "generation_resolution",
        "generation_generate_audio",
        "generation_input_file",
        "generation_camera_fixed",
    } <= set(form.fields)
    assert [c for c, _ in form.fields["generation_duration"].choices] == ["5", "8", "10"]
    assert [c for c, _ in form.fields["generation_resolution"].choices] == ["720p", "1080p"]
    veo = form_of(editor_client, "google/veo-2")
    assert "generation_resolution" not in veo.fields
    assert "generation_generate_audio" not in veo.fields


def test_qwen_specific_extras(catalog: Sandbox, editor_client: Client) -> None:
    form = form_of(editor_client, "qwen/image")
    assert {"generation_negative_prompt", "generation_seed", "generation_guidance"} <= set(
        form.fields
    )
    assert "generation_input_file" not in form.fields


def test_field_errors_an_editor_understands(catalog: Sandbox, editor_client: Client) -> None:
    token = form_of(editor_client, "google/veo-2")["form_token"].initial
    response = post(
        editor_client,
        "google/veo-2",
        token,
        generation_prompt="",
        generation_duration="7",
        generation_ratio="16:9",
        generation_output_format="mp4",
        generation_input_file="http://insecure.example/a.png",
        generation_seed="abc",
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {
        "generation_prompt",
        "generation_duration",
        "generation_input_file",
        "generation_seed",
    }
    assert "https://" in errors["generation_input_file"][0]
    assert Generation.objects.count() == 0
    assert creates(catalog) == []


def test_double_submit_creates_one_generation(catalog: Sandbox, editor_client: Client) -> None:
    token = form_of(editor_client, "qwen/image")["form_token"].initial
    fields = {
        "generation_prompt": PROMPT,
        "generation_ratio": "1:1",
        "generation_output_format": "png",
        "generation_negative_prompt": "blur",
        "generation_seed": "7",
    }
    first = post(editor_client, "qwen/image", token, **fields)
    second = post(editor_client, "qwen/image", token, **fields)
    generation = Generation.objects.get()
    change = f"/admin/django_babysea/generation/{generation.pk}/change/"
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == change
    assert len(creates(catalog)) == 1
    assert generation.status == "pending"
    assert generation.request == {
        "generation_prompt": PROMPT,
        "generation_ratio": "1:1",
        "generation_output_format": "png",
        "generation_negative_prompt": "blur",
        "generation_seed": 7,
    }
    assert generation.owner is not None
    assert generation.owner.get_username() == "editor"
    assert generation.idempotency_key.startswith("django-babysea:form:")
    assert token not in generation.idempotency_key


def test_a_new_form_is_a_new_generation(catalog: Sandbox, editor_client: Client) -> None:
    for _ in range(2):
        token = form_of(editor_client, "bfl/flux-schnell")["form_token"].initial
        post(
            editor_client,
            "bfl/flux-schnell",
            token,
            generation_prompt=PROMPT,
            generation_ratio="1:1",
            generation_output_format="png",
        )
    assert Generation.objects.count() == 2
    assert len(creates(catalog)) == 2


def test_video_submit(catalog: Sandbox, editor_client: Client) -> None:
    token = form_of(editor_client, "bytedance/seedance-1.5-pro")["form_token"].initial
    response = post(
        editor_client,
        "bytedance/seedance-1.5-pro",
        token,
        generation_prompt=PROMPT,
        generation_ratio="16:9",
        generation_output_format="mp4",
        generation_duration="5",
        generation_resolution="1080p",
        generation_input_file="https://example.com/a.png\n\n",
        generation_camera_fixed="true",
        generation_provider_order="fastest",
    )
    assert response.status_code == 302
    generation = Generation.objects.get()
    assert generation.kind == "video"
    assert generation.request["generation_generate_audio"] is False
    assert generation.request["generation_input_file"] == ["https://example.com/a.png"]
    assert generation.request["generation_camera_fixed"] is True


def test_insufficient_credits_is_a_message_not_a_500(
    catalog: Sandbox, editor_client: Client
) -> None:
    catalog.set_balance("0.000")
    token = form_of(editor_client, "bfl/flux-schnell")["form_token"].initial
    response = post(
        editor_client,
        "bfl/flux-schnell",
        token,
        generation_prompt=PROMPT,
        generation_ratio="1:1",
        generation_output_format="png",
    )
    generation = Generation.objects.get()
    assert response.status_code == 302
    assert (generation.status, generation.error_code) == ("failed", "BSE1004")
    page = editor_client.get(ADD)
    assert b"BSE1004" in page.content


def test_unreachable_on_submit_keeps_the_row_and_says_so(
    catalog: Sandbox, editor_client: Client
) -> None:
    token = form_of(editor_client, "bfl/flux-schnell")["form_token"].initial
    with override_settings(BABYSEA=sandbox_settings(catalog, BASE_URL="http://127.0.0.1:9")):
        response = post(
            editor_client,
            "bfl/flux-schnell",
            token,
            generation_prompt=PROMPT,
            generation_ratio="1:1",
            generation_output_format="png",
        )
        page = editor_client.get(ADD)
    clear_clients()
    generation = Generation.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{generation.pk}/change/")
    assert generation.status == "created"
    assert b"could not be reached" in page.content


def test_duplicate_with_changes_prefills(catalog: Sandbox, editor_client: Client) -> None:
    source = Generation.objects.create(
        kind="video",
        model_identifier="bytedance/seedance-1.5-pro",
        prompt=PROMPT,
        request={
            "generation_prompt": PROMPT,
            "generation_duration": 8,
            "generation_resolution": "1080p",
            "generation_generate_audio": False,
            "generation_input_file": ["https://example.com/a.png", "https://example.com/b.png"],
            "generation_camera_fixed": True,
            "generation_unknown_now": 1,
        },
    )
    response = editor_client.get(ADD, {"from": str(source.pk)})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.model.model_identifier == "bytedance/seedance-1.5-pro"
    assert form.initial == {
        "generation_prompt": PROMPT,
        "generation_duration": 8,
        "generation_resolution": "1080p",
        "generation_generate_audio": False,
        "generation_input_file": "https://example.com/a.png\nhttps://example.com/b.png",
        "generation_camera_fixed": "true",
    }
    assert PROMPT in response.content.decode()


def test_duplicate_of_an_unknown_generation_is_step_one(
    catalog: Sandbox, editor_client: Client
) -> None:
    response = editor_client.get(ADD, {"from": "not-a-uuid"})
    assert response.status_code == 200
    assert "groups" in response.context


def test_fresh_catalog_opens_without_a_remote_call(catalog: Sandbox, editor_client: Client) -> None:
    before = len(catalog.received())
    assert editor_client.get(ADD).status_code == 200
    form_of(editor_client, "google/veo-2")
    assert len(catalog.received()) == before


def test_unreachable_and_no_cache_is_a_message(sandbox: Sandbox, editor_client: Client) -> None:
    with override_settings(BABYSEA=sandbox_settings(sandbox, BASE_URL="http://127.0.0.1:9")):
        response = editor_client.get(ADD)
    clear_clients()
    assert response.status_code == 200
    assert b"could not be fetched and none is cached yet" in response.content


def test_stale_cache_and_unreachable_warns(sandbox: Sandbox, editor_client: Client) -> None:
    CatalogModel.objects.create(
        model_identifier="bfl/flux-schnell",
        kind="image",
        schema={"generation_prompt": True, "generation_ratio": ["1:1"]},
        fetched_at=timezone.now() - timezone.timedelta(days=1),
    )
    with override_settings(BABYSEA=sandbox_settings(sandbox, BASE_URL="http://127.0.0.1:9")):
        response = editor_client.get(ADD, {"model": "bfl/flux-schnell"})
    clear_clients()
    assert response.status_code == 200
    assert b"may be out of date" in response.content
    assert "generation_ratio" in response.context["form"].fields


def test_add_without_submit_permission_is_403_on_post(catalog: Sandbox) -> None:
    client = Client()
    client.force_login(make_staff("preparer", "view_generation", "add_generation"))
    page = client.get(ADD, {"model": "bfl/flux-schnell"})
    assert page.status_code == 200
    assert b"Submit to BabySea" not in page.content
    token = page.context["form"]["form_token"].initial
    response = post(
        client,
        "bfl/flux-schnell",
        token,
        generation_prompt=PROMPT,
        generation_ratio="1:1",
        generation_output_format="png",
    )
    assert response.status_code == 403
    assert Generation.objects.count() == 0
    assert creates(catalog) == []


def test_viewer_cannot_open_the_create_page(catalog: Sandbox, viewer_client: Client) -> None:
    assert viewer_client.get(ADD).status_code == 403


def test_estimate_shows_cost_and_balance(catalog: Sandbox, editor_client: Client) -> None:
    response = editor_client.get(
        ADD + "estimate/",
        {
            "model": "bytedance/seedance-1.5-pro",
            "generation_duration": "8",
            "generation_resolution": "1080p",
            "generation_generate_audio": "false",
        },
    )
    assert response.status_code == 200
    data = response.json()
    assert data["cost"] == pytest.approx(0.464)
    assert data["balance"] == pytest.approx(100.0)
    assert "0.464" in data["text"]
    assert "100.000" in data["text"]


def test_estimate_error_is_a_400_with_a_message(catalog: Sandbox, editor_client: Client) -> None:
    response = editor_client.get(ADD + "estimate/", {"model": "nope/model"})
    assert response.status_code == 400
    assert "No estimate" in response.json()["text"]


def test_refresh_catalog_from_the_create_page(sandbox: Sandbox, editor_client: Client) -> None:
    response = editor_client.post(ADD + "refresh-catalog/", {"next": ADD + "?model=qwen/image"})
    assert response.status_code == 302
    assert response["Location"] == ADD + "?model=qwen/image"
    assert CatalogModel.objects.count() == 25


def test_no_remote_call_inside_atomic_requests(
    sandbox: Sandbox, editor_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ATOMIC_REQUESTS on, the page still fetches the catalog and submits outside any
    transaction (the autouse fixture fails the test otherwise)."""
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    token = form_of(editor_client, "bfl/flux-schnell")["form_token"].initial
    response = post(
        editor_client,
        "bfl/flux-schnell",
        token,
        generation_prompt=PROMPT,
        generation_ratio="1:1",
        generation_output_format="png",
    )
    assert response.status_code == 302
    assert Generation.objects.get().status == "pending"
    assert editor_client.post(ADD + "refresh-catalog/").status_code == 302
    assert editor_client.post("/admin/django_babysea/catalogmodel/refresh/").status_code == 302
