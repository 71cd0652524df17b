"""The webhook receiver: verify the raw body, store the delivery, apply it, answer.

The view is thin on purpose; what a delivery means is decided in :mod:`django_babysea.services`.

Responses: 200 with a small JSON body for every verified delivery (applied, deferred until the
generation id is known, a duplicate, ``webhook.test``, or an event type this version ignores);
400 with a short plain-text reason when the request is not a valid signed delivery, and then
nothing is written; 405 for any method but POST; 500 when processing failed, so BabySea retries
(the stored delivery keeps the error).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from .client.webhooks import SIGNATURE_HEADER, WebhookSignatureError, verify
from .conf import babysea_settings
from .models import WebhookDelivery
from .services import dispatch, process_delivery, store_delivery
from .services.events import remote_generation_id

__all__ = ["MAX_BODY_BYTES", "WebhookRequestError", "WebhookView"]

logger = logging.getLogger(__name__)

#: Largest body accepted. BabySea's deliveries are a few hundred bytes.
MAX_BODY_BYTES: Final = 1024 * 1024


class WebhookRequestError(SuspiciousOperation):
    """The request is not a valid signed BabySea delivery; answered with 400.

    Messages name what is wrong and never contain the body, a header value or a secret.
    """


@dataclass(frozen=True, slots=True)
class VerifiedDelivery:
    delivery_id: UUID
    event_type: str
    generation_id: UUID | None
    body: str
    signed_at: datetime


@method_decorator(csrf_exempt, name="dispatch")
# Processing commits in steps (store the delivery, then apply it in its own atomic block), so
# ATOMIC_REQUESTS must not wrap the view: a rollback would lose the stored delivery and its error.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class WebhookView(View):
    """``POST babysea/webhook/``: the URL to register in BabySea's dashboard."""

    http_method_names = ("post",)
    max_body_bytes: int = MAX_BODY_BYTES

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            verified = self.validate(request)
        except WebhookRequestError as exc:
            logger.warning("Refused a webhook request: %s", exc)
            return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain; charset=utf-8")
        # Slow follow-up work (copying outputs) waits until BabySea has its answer.
        dispatch.defer_until_response_sent()
        delivery = store_delivery(
            delivery_id=verified.delivery_id,
            event_type=verified.event_type,
            body=verified.body,
            generation_id=verified.generation_id,
            signature_timestamp=verified.signed_at,
        )
        try:
            # A repeat of a delivery already processed is acknowledged without re-applying it.
            delivery = process_delivery(delivery)
        except Exception:
            logger.exception(
                "Processing webhook delivery %s failed; BabySea will retry it.",
                verified.delivery_id,
            )
            return JsonResponse({"ok": False, "error": "processing failed"}, status=500)
        return self.acknowledge(delivery)

    def acknowledge(self, delivery: WebhookDelivery) -> HttpResponse:
        return JsonResponse({"ok": True, "state": delivery.state})

    # -- validation hooks, each raising WebhookRequestError -------------------------------------

    def validate(self, request: HttpRequest) -> VerifiedDelivery:
        body = self.read_body(request)
        signed_at = self.verify_signature(request, body)
        return self.parse_delivery(body, signed_at)

    def read_body(self, request: HttpRequest) -> bytes:
        """The raw body, refused above :attr:`max_body_bytes` before and after reading."""
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            too_large = int(declared) > self.max_body_bytes
        except ValueError:
            raise WebhookRequestError("Invalid Content-Length.") from None
        if too_large:
            raise WebhookRequestError("Request body is too large.")
        try:
            body = request.body
        except RequestDataTooBig:
            raise WebhookRequestError("Request body is too large.") from None
        # Servers that pass no Content-Length (chunked uploads behind ASGI) are caught here.
        if len(body) > self.max_body_bytes:
            raise WebhookRequestError("Request body is too large.")
        return body

    def verify_signature(self, request: HttpRequest, body: bytes) -> datetime:
        """Check ``X-BabySea-Signature`` on the raw bytes with any configured secret."""
        try:
            timestamp = verify(
                babysea_settings.WEBHOOK_SECRETS,
                body,
                request.headers.get(SIGNATURE_HEADER),
                babysea_settings.WEBHOOK_TOLERANCE,
            )
        except WebhookSignatureError as exc:
            if exc.reason == "missing_secret":
                logger.error("A webhook arrived but BABYSEA['WEBHOOK_SECRETS'] is empty.")
            raise WebhookRequestError(f"Invalid webhook signature ({exc.reason}).") from None
        return datetime.fromtimestamp(timestamp, tz=UTC)

    def parse_delivery(self, body: bytes, signed_at: datetime) -> VerifiedDelivery:
        """The envelope of contract section 7.4; the event payload is the services' business."""
        try:
            text = body.decode("utf-8")
            payload = json.loads(text)
        except ValueError:
            raise WebhookRequestError("Body is not JSON.") from None
        if not isinstance(payload, dict):
            raise WebhookRequestError("Body is not a JSON object.")
        try:
            delivery_id = UUID(str(payload["webhook_delivery_id"]))
        except (KeyError, ValueError):
            raise WebhookRequestError("Missing or invalid webhook_delivery_id.") from None
        event_type = payload.get("webhook_event")
        if not isinstance(event_type, str) or not 0 < len(event_type) <= 100:
            raise WebhookRequestError("Missing or invalid webhook_event.")
        data = payload.get("webhook_data")
        if not isinstance(data, dict):
            raise WebhookRequestError("Missing webhook_data object.")
        return VerifiedDelivery(
            delivery_id=delivery_id,
            event_type=event_type,
            generation_id=remote_generation_id(data),
            body=text,
            signed_at=signed_at,
        )
