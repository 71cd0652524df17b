"""The catalog cached in the database, and the one validator of a request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from django_babysea.models import CatalogModel, Generation
from django_babysea.sandbox import Sandbox
from django_babysea.services import (
    CatalogUnavailableError,
    catalog_is_fresh,
    load_catalog,
    refresh_catalog,
    submit_generation,
    validate_request,
)
from django_babysea.services.connection import clear_clients

from .conftest import PROMPT, sandbox_settings

pytestmark = pytest.mark.django_db(transaction=True)

#: Nothing listens on port 9 of the loopback: BabySea "unreachable" for real.
UNREACHABLE = "http://127.0.0.1:9"


def catalog_calls(sandbox: Sandbox) -> list[str]:
    return [r["path"] for r in sandbox.received() if "/library/" in r["path"]]


@pytest.fixture
def unreachable(sandbox: Sandbox) -> Any:
    with override_settings(BABYSEA=sandbox_settings(sandbox, BASE_URL=UNREACHABLE, TIMEOUT=2)):
        yield
    clear_clients()


def test_refresh_stores_every_model_with_its_health(sandbox: Sandbox) -> None:
    count = refresh_catalog()
    assert count == CatalogModel.objects.count() == 25
    qwen = CatalogModel.objects.get(model_identifier="qwen/image")
    assert qwen.kind == "image"
    assert qwen.specific_schema == [
        "generation_negative_prompt",
        "generation_seed",
        "generation_guidance",
    ]
    veo = CatalogModel.objects.get(model_identifier="google/veo-2")
    assert (veo.kind, veo.schema["generation_duration"], veo.pricing) == ("video", [5, 8], 0.5)
    assert set(CatalogModel.objects.values_list("health", flat=True)) <= {
        "healthy",
        "degraded",
        "unavailable",
    }
    assert veo.health  # the sandbox reports every model
    paths = [r["path"] for r in sandbox.received()]
    assert "/v1/health/inference/models" in paths


def test_a_model_no_longer_listed_is_kept_but_unavailable(sandbox: Sandbox) -> None:
    CatalogModel.objects.create(
        model_identifier="old/model", kind="image", fetched_at=timezone.now()
    )
    refresh_catalog()
    assert CatalogModel.objects.get(model_identifier="old/model").available is False


def test_fresh_catalog_makes_no_remote_call(sandbox: Sandbox) -> None:
    refresh_catalog()
    before = len(sandbox.received())
    state = load_catalog()
    assert len(state.models) == 25
    assert not state.stale
    assert len(sandbox.received()) == before


def test_stale_catalog_is_fetched_again(sandbox: Sandbox) -> None:
    refresh_catalog()
    CatalogModel.objects.update(fetched_at=timezone.now() - timedelta(hours=2))
    assert not catalog_is_fresh()
    calls = len(catalog_calls(sandbox))
    load_catalog()
    assert len(catalog_calls(sandbox)) == calls + 1
    assert catalog_is_fresh()


def test_stale_catalog_and_unreachable_serves_the_stale_one(
    sandbox: Sandbox, unreachable: None
) -> None:
    CatalogModel.objects.create(
        model_identifier="bfl/flux-schnell",
        kind="image",
        fetched_at=timezone.now() - timedelta(days=2),
    )
    state = load_catalog()
    assert state.stale
    assert state.error
    assert [m.model_identifier for m in state.models] == ["bfl/flux-schnell"]


def test_no_catalog_and_unreachable_is_a_clear_error(sandbox: Sandbox, unreachable: None) -> None:
    with pytest.raises(CatalogUnavailableError, match="could not be fetched") as caught:
        load_catalog()
    assert sandbox.api_key not in str(caught.value)


# -- the validator ------------------------------------------------------------------------------


@pytest.fixture
def catalog(sandbox: Sandbox) -> None:
    refresh_catalog()


def errors(model: str, fields: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        validate_request(model, fields)
    return caught.value.message_dict


def test_valid_image_request_is_cleaned(catalog: None) -> None:
    cleaned = validate_request(
        "qwen/image",
        {
            "generation_prompt": PROMPT,
            "generation_ratio": "16:9",
            "generation_output_format": "webp",
            "generation_negative_prompt": "blur",
            "generation_seed": 42,
            "generation_guidance": 3.5,
            "generation_provider_order": "fal,replicate",
            "generation_input_file": [],
        },
    )
    assert cleaned["generation_provider_order"] == "fal, replicate"
    assert "generation_input_file" not in cleaned
    assert cleaned["generation_seed"] == 42


def test_valid_video_request(catalog: None) -> None:
    cleaned = validate_request(
        "bytedance/seedance-1.5-pro",
        {
            "generation_prompt": PROMPT,
            "generation_duration": 8,
            "generation_resolution": "1080p",
            "generation_generate_audio": False,
            "generation_input_file": ["https://example.com/a.png"],
        },
    )
    assert cleaned["generation_generate_audio"] is False


def test_every_wrong_field_is_named_at_once(catalog: None) -> None:
    found = errors(
        "google/veo-2",
        {
            "generation_prompt": " ",
            "generation_duration": 7,
            "generation_ratio": "21:9",
            "generation_resolution": "1080p",
            "generation_negative_prompt": "x",
            "generation_input_file": ["http://insecure.example/a.png"],
            "generation_provider_order": "replicate, openai",
        },
    )
    assert set(found) == {
        "generation_prompt",
        "generation_duration",
        "generation_ratio",
        "generation_resolution",
        "generation_negative_prompt",
        "generation_input_file",
        "generation_provider_order",
    }
    assert "5, 8" in found["generation_duration"][0]
    assert "does not accept" in found["generation_resolution"][0]
    assert "https://" in found["generation_input_file"][0]


def test_video_without_duration_and_unknown_model(catalog: None) -> None:
    assert (
        "duration"
        in errors("google/veo-2", {"generation_prompt": PROMPT})["generation_duration"][0]
    )
    assert (
        "not in BabySea's model catalog"
        in errors("nope/model", {"generation_prompt": PROMPT})["model_identifier"][0]
    )
    assert "generation_prompt" in errors("bfl/flux-schnell", {})


def test_types_are_checked_for_api_callers(catalog: None) -> None:
    found = errors(
        "bytedance/seedance-1.5-pro",
        {
            "generation_prompt": PROMPT,
            "generation_duration": "5",
            "generation_generate_audio": "yes",
            "generation_seed": float("nan"),
            "generation_output_number": 2,
        },
    )
    assert set(found) == {
        "generation_duration",
        "generation_generate_audio",
        "generation_seed",
        "generation_output_number",
    }


# -- submitting with a caller's idempotency key -------------------------------------------------


def test_submit_with_the_same_key_twice_makes_one_generation(sandbox: Sandbox) -> None:
    key = "django-babysea:form:abc"
    first = submit_generation("bfl/flux-schnell", idempotency_key=key, generation_prompt=PROMPT)
    again = submit_generation("bfl/flux-schnell", idempotency_key=key, generation_prompt=PROMPT)
    assert first.pk == again.pk
    assert first.idempotency_key == key
    assert Generation.objects.count() == 1
    assert len([r for r in sandbox.received() if r["method"] == "POST"]) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ünïcode"])
def test_a_malformed_key_is_refused_before_any_write(sandbox: Sandbox, key: str) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        submit_generation("bfl/flux-schnell", idempotency_key=key, generation_prompt=PROMPT)
    assert Generation.objects.count() == 0
    assert sandbox.received() == []


@pytest.mark.parametrize(
    ("model", "message"), [("bfl/flux\x00", "NUL"), ("m" * 300, "at most")], ids=["nul", "long"]
)
def test_model_the_database_cannot_search_is_a_field_error(
    catalog: None, model: str, message: str
) -> None:
    # PostgreSQL refuses a NUL in a query: checked before the lookup, for every caller.
    (error,) = errors(model, {"generation_prompt": PROMPT})["model_identifier"]
    assert message in error
