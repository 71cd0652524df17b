"""A generation's page: previews of every output, the request and remote record, read-only
remote state, the ledger and the webhook deliveries, and the duplicate link."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from django_babysea.models import (
    CreditEvent,
    DeliveryState,
    Generation,
    GenerationOutput,
    GenerationStatus,
    OutputState,
    WebhookDelivery,
)

from .conftest import make_staff

pytestmark = pytest.mark.django_db


def page_url(generation: Generation) -> str:
    return f"/admin/django_babysea/generation/{generation.pk}/change/"


@pytest.fixture
def generation() -> Generation:
    generation = Generation.objects.create(
        kind="video",
        model_identifier="google/veo-2",
        prompt="waves on a pebble beach",
        status=GenerationStatus.FAILED,
        generation_id=uuid.uuid4(),
        request={"generation_duration": 5, "generation_ratio": "16:9"},
        remote={"status": "failed", "provider": "prov-a"},
        provider_used="prov-a",
        error_code="BSE5001",
        error_message="The provider gave up.",
        cost_reserved=Decimal("2.5"),
    )
    video = default_storage.save("t/clip.mp4", ContentFile(b"\x00\x00\x00\x18ftypisom"))
    image = default_storage.save("t/still.png", ContentFile(b"\x89PNG\r\n\x1a\n"))
    expires = timezone.now() + timedelta(hours=20)
    rows = [
        ("video/mp4", OutputState.STORED, video, 1280, 720),
        ("image/png", OutputState.STORED, image, 512, 768),
        ("", OutputState.FAILED, "", None, None),
    ]
    for index, (content_type, state, name, width, height) in enumerate(rows):
        GenerationOutput.objects.create(
            generation=generation,
            index=index,
            source_url=f"https://cdn.babysea.example/{index}",
            storage="default",
            state=state,
            name=name,
            content_type=content_type,
            width=width,
            height=height,
            remote_expires_at=expires,
            error="The source answered HTTP 503." if not name else "",
            error_reason="http_status" if not name else "",
        )
    CreditEvent.objects.create(
        kind="reserve", amount=Decimal("2.5"), generation=generation, source="create"
    )
    WebhookDelivery.objects.create(
        delivery_id=uuid.uuid4(),
        event_type="generation.failed",
        generation_id=generation.generation_id,
        body="{}",
        state=DeliveryState.PROCESSED,
    )
    WebhookDelivery.objects.create(
        delivery_id=uuid.uuid4(), event_type="generation.started", generation_id=uuid.uuid4()
    )
    return generation


def test_previews_every_output(editor_client: Client, generation: Generation) -> None:
    response = editor_client.get(page_url(generation))
    assert response.status_code == 200
    page = response.content.decode()
    video = default_storage.url(generation.outputs.get(index=0).name)
    image = default_storage.url(generation.outputs.get(index=1).name)
    assert f'<video controls preload="metadata" playsinline src="{video}" width="1280"' in page
    assert f'<img src="{image}" width="512" height="768" loading="lazy"' in page
    assert "Failed (will be retried)" in page
    assert "The source answered HTTP 503. (http_status)" in page
    assert "Expires at BabySea" in page  # the one not copied yet


def test_shows_request_remote_record_error_and_provider(
    editor_client: Client, generation: Generation
) -> None:
    page = editor_client.get(page_url(generation)).content.decode()
    assert "&quot;generation_ratio&quot;: &quot;16:9&quot;" in page
    assert "&quot;provider&quot;: &quot;prov-a&quot;" in page
    assert "BSE5001" in page
    assert "The provider gave up." in page
    assert 'class="babysea-pill babysea-pill--failed"' in page


def test_remote_state_is_read_only(editor_client: Client, generation: Generation) -> None:
    response = editor_client.get(page_url(generation))
    form = response.context["adminform"].form
    assert set(form.fields) == {"owner"}  # the only editable field
    data = {"owner": "", "status": "succeeded", "prompt": "changed"}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(
            {f"{formset.prefix}-{k}": v for k, v in formset.management_form.initial.items()}
        )
        for form in formset.forms:
            data[f"{form.prefix}-id"] = str(form.instance.pk)
    response = editor_client.post(page_url(generation), data)
    assert response.status_code == 302
    generation.refresh_from_db()
    assert generation.status == GenerationStatus.FAILED
    assert generation.prompt == "waves on a pebble beach"


def test_credit_events_inline_and_deliveries_table(
    editor_client: Client, generation: Generation
) -> None:
    page = editor_client.get(page_url(generation)).content.decode()
    assert "Credit events" in page
    assert "create" in page
    assert "Webhook deliveries" in page
    assert "generation.failed" in page
    assert "generation.started" not in page  # another generation's delivery
    delivery = WebhookDelivery.objects.get(event_type="generation.failed")
    assert f"/admin/django_babysea/webhookdelivery/{delivery.pk}/change/" in page


def test_deliveries_hidden_without_their_permission(generation: Generation) -> None:
    client = Client()
    client.force_login(make_staff("looker", "view_generation"))
    page = client.get(page_url(generation)).content.decode()
    assert "Webhook deliveries" not in page
    assert "Credit events" not in page
    assert "Duplicate with changes" not in page  # no add permission


def test_duplicate_link(editor_client: Client, generation: Generation) -> None:
    page = editor_client.get(page_url(generation)).content.decode()
    assert f'href="/admin/django_babysea/generation/add/?from={generation.pk}"' in page
    assert "Duplicate with changes" in page


def test_live_pill_on_an_unfinished_generation(editor_client: Client, generation: Any) -> None:
    Generation.objects.filter(pk=generation.pk).update(status=GenerationStatus.PROCESSING)
    page = editor_client.get(page_url(generation)).content.decode()
    assert f'data-babysea-live="{generation.pk}"' in page
    assert "django_babysea/admin/status.js" in page
