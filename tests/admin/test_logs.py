"""The read-only admins of the credit ledger and the webhook deliveries."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from django_babysea.models import (
    CreditEvent,
    CreditEventKind,
    DeliveryState,
    Generation,
    GenerationKind,
    WebhookDelivery,
)
from django_babysea.services import store_delivery
from tests.core.helpers import encode, webhook_payload

from .conftest import make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def url(model: str, view: str, *args: Any) -> str:
    return reverse(f"admin:django_babysea_{model}_{view}", args=args)


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))
    return client


def delivery(event: str = "generation.started", **fields: Any) -> WebhookDelivery:
    payload = webhook_payload(event, uuid.uuid4())
    stored = store_delivery(
        delivery_id=uuid.UUID(payload["webhook_delivery_id"]),
        event_type=event,
        body=encode(payload).decode(),
        generation_id=uuid.UUID(payload["webhook_data"]["generation_id"]),
    )
    if fields:
        WebhookDelivery.objects.filter(pk=stored.pk).update(**fields)
        stored.refresh_from_db()
    return stored


def credit_event() -> CreditEvent:
    generation = Generation.objects.create(
        kind=GenerationKind.IMAGE,
        model_identifier="bfl/flux-schnell",
        generation_id=uuid.uuid4(),
    )
    return CreditEvent.objects.create(
        kind=CreditEventKind.RESERVE,
        amount=Decimal("0.030"),
        generation=generation,
        source="create",
        details={"note": "reserved"},
    )


def texts(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


# -- read-only, even for a superuser --------------------------------------------------------------


@pytest.mark.parametrize("model", ["creditevent", "webhookdelivery"])
def test_no_add_change_or_delete_even_for_a_superuser(superuser_client: Client, model: str) -> None:
    row = credit_event() if model == "creditevent" else delivery()
    assert superuser_client.get(url(model, "add")).status_code == 403
    assert superuser_client.post(url(model, "add"), {}).status_code == 403
    assert superuser_client.get(url(model, "delete", row.pk)).status_code == 403
    assert superuser_client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    change = superuser_client.get(url(model, "change", row.pk))
    assert change.status_code == 200
    assert change.context["has_change_permission"] is False
    assert 'name="_save"' not in change.content.decode()
    assert superuser_client.post(url(model, "change", row.pk), {}).status_code == 403
    listing = superuser_client.get(url(model, "changelist"))
    form = listing.context["action_form"]
    choices = {value for value, _ in form.fields["action"].choices} if form else set()
    assert "delete_selected" not in choices
    assert type(row).objects.filter(pk=row.pk).exists()


# -- searching, filtering ---------------------------------------------------------------------


def listed(client: Client, model: str, **query: str) -> list[Any]:
    response = client.get(url(model, "changelist"), query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_deliveries_search_by_ids_and_filter_by_state(viewer_client: Client) -> None:
    first = delivery()
    second = delivery(state=DeliveryState.FAILED, error="boom")
    assert listed(viewer_client, "webhookdelivery", q=str(first.delivery_id)) == [first]
    assert listed(viewer_client, "webhookdelivery", q=str(second.generation_id)) == [second]
    assert listed(viewer_client, "webhookdelivery", state__exact="failed") == [second]
    page = viewer_client.get(url("webhookdelivery", "changelist"), {"state__exact": "failed"})
    html = page.content.decode()
    assert "Failed (1)" in html  # facet counts
    assert page.context["cl"].date_hierarchy == "received_at"
    assert 'class="toplinks"' in html  # the date hierarchy's links


def test_ledger_search_by_ids_and_filter_by_kind(viewer_client: Client) -> None:
    event = credit_event()
    alert = CreditEvent.objects.create(
        kind=CreditEventKind.LOW_BALANCE,
        amount=Decimal("0.400"),
        source="webhook:abc",
        dedupe_key="low_balance:abc",
    )
    assert event.generation is not None
    assert listed(viewer_client, "creditevent", q=str(event.generation.generation_id)) == [event]
    assert listed(viewer_client, "creditevent", q="low_balance:abc") == [alert]
    assert listed(viewer_client, "creditevent", q="create") == [event]
    assert listed(viewer_client, "creditevent", kind__exact="low_balance") == [alert]
    html = viewer_client.get(url("creditevent", "changelist")).content.decode()
    assert "Reserve (1)" in html
    assert 'class="toplinks"' in html
    assert url("generation", "change", event.generation.pk) in html


def test_delivery_page_shows_the_body_pretty_printed_and_the_error(viewer_client: Client) -> None:
    row = delivery(state=DeliveryState.FAILED, error="Traceback <boom>")
    html = viewer_client.get(url("webhookdelivery", "change", row.pk)).content.decode()
    pretty = json.dumps(json.loads(row.body), indent=2, sort_keys=True)
    assert '<pre class="babysea-json">' in html
    assert pretty.splitlines()[1].replace('"', "&quot;") in html
    assert "Traceback &lt;boom&gt;" in html
    assert "django_babysea/admin/logs.css" in html


# -- process again --------------------------------------------------------------------------------


def process_again(client: Client, *rows: WebhookDelivery) -> Any:
    data = {
        "action": "process_again",
        "index": "0",
        "_selected_action": [str(row.pk) for row in rows],
    }
    return client.post(url("webhookdelivery", "changelist"), data)


def test_process_again_shows_each_new_state_or_error(editor_client: Client) -> None:
    test_event = delivery("webhook.test", state=DeliveryState.FAILED, error="earlier failure")
    garbled = delivery(state=DeliveryState.FAILED)
    WebhookDelivery.objects.filter(pk=garbled.pk).update(body="[1, 2]")
    response = process_again(editor_client, test_event, garbled)
    assert response.status_code == 302
    test_event.refresh_from_db()
    garbled.refresh_from_db()
    assert test_event.state == DeliveryState.PROCESSED
    assert garbled.state == DeliveryState.FAILED
    messages = texts(response)
    assert ("success", f"{test_event}: Failed -> Processed") in messages
    assert any(
        level == "error" and "not a JSON object" in text and str(garbled.delivery_id)[:8] in text
        for level, text in messages
    )
    assert LogEntry.objects.filter(object_id=str(test_event.pk)).count() == 1
    assert "not a JSON object" in LogEntry.objects.get(object_id=str(garbled.pk)).change_message


def test_process_again_needs_the_replay_permission(viewer_client: Client) -> None:
    row = delivery(state=DeliveryState.FAILED)
    listing = viewer_client.get(url("webhookdelivery", "changelist"))
    assert listing.context["action_form"] is None
    client = Client()
    client.force_login(make_staff("replayer", "view_webhookdelivery", "replay_webhookdelivery"))
    form = client.get(url("webhookdelivery", "changelist")).context["action_form"]
    assert "process_again" in {value for value, _ in form.fields["action"].choices}

    assert process_again(viewer_client, row).status_code == 403
    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED
    assert not LogEntry.objects.exists()
