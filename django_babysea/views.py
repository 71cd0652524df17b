"""The webhook receiver: verify the raw body, store the delivery, apply it, answer.

The view is thin on purpose; what a delivery means is decided in :mod:`django_babysea.services`.

Responses: 200 with a small JSON body for every stored delivery that a retry would not change
(applied, deferred until the generation id is known, a duplicate, ``webhook.test``, an event type
this version ignores, a payload that can never be applied, stored as ``invalid``, or a processing
error of ours, stored as ``failed`` for a replay); 400 with a short plain-text reason when the
request is not a signed delivery with a readable envelope, and then nothing is written; 405 for
any method but POST; 503 (500 when the delivery could not even be stored for another reason)
with a JSON body only for our own faults that a retry may get past, so BabySea retries. BabySea
switches an endpoint off after 15 failed deliveries in a row, so nothing else answers 5xx.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    UnreadablePostError,
)
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from .client.webhooks import SIGNATURE_HEADER, WebhookSignatureError, verify
from .conf import babysea_settings
from .models import DeliveryState, WebhookDelivery
from .services import dispatch
from .services.payloads import MAX_DEPTH, generation_id_of, nesting_depth
from .services.webhooks import DeliveryNotStoredError, is_transient, receive_delivery

__all__ = ["MAX_BODY_BYTES", "WebhookRequestError", "WebhookView"]

logger = logging.getLogger(__name__)

#: Largest body accepted. BabySea's deliveries are a few hundred bytes.
MAX_BODY_BYTES: Final = 1024 * 1024
#: Characters no database column takes: NUL and halves of surrogate pairs.
_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


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
# A failed delivery is stored in a transaction of its own after the rollback of its processing,
# so ATOMIC_REQUESTS must not wrap the view: its rollback would lose the row and its error.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class WebhookView(View):
    """``POST babysea/webhook/``: the URL to register in BabySea's dashboard."""

    http_method_names = ("post",)
    max_body_bytes: int = MAX_BODY_BYTES

    # Error reports (DEBUG off) show no variables of any frame below this one: the signature
    # check holds the webhook secrets.
    @method_decorator(sensitive_variables())
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            verified = self.validate(request)
        except WebhookRequestError as exc:
            logger.warning("Refused a webhook request: %s", exc)
            return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain; charset=utf-8")
        # Slow follow-up work (copying outputs) waits until BabySea has its answer.
        dispatch.defer_until_response_sent()
        try:
            # One transaction: store (or count a repeat), apply, mark processed.
            delivery = receive_delivery(
                delivery_id=verified.delivery_id,
                event_type=verified.event_type,
                body=verified.body,
                generation_id=verified.generation_id,
                signature_timestamp=verified.signed_at,
            )
        except DeliveryNotStoredError as exc:
            # Nothing is stored: only BabySea's retry can still bring this delivery.
            logger.exception(
                "Storing webhook delivery %s failed; BabySea will retry it.", verified.delivery_id
            )
            return self.retry_later(transient=is_transient(exc))
        except Exception as exc:
            # The delivery is stored as failed, with the error; what it changed is rolled back.
            if is_transient(exc):
                logger.exception(
                    "Processing webhook delivery %s hit a transient fault; BabySea will retry it.",
                    verified.delivery_id,
                )
                return self.retry_later(transient=True)
            # A retry would fail the same way, and failed deliveries switch the endpoint off:
            # acknowledge, and keep the row (state failed, with the error) for a replay.
            logger.exception(
                "Processing webhook delivery %s failed; stored as failed for "
                "babysea_replay_webhooks.",
                verified.delivery_id,
            )
            return JsonResponse({"ok": False, "state": DeliveryState.FAILED})
        return self.acknowledge(delivery)

    def acknowledge(self, delivery: WebhookDelivery) -> HttpResponse:
        """The 200 answer for a stored delivery that a retry would not change."""
        if delivery.state == DeliveryState.INVALID:
            return JsonResponse({"ok": False, "state": delivery.state, "error": delivery.error})
        return JsonResponse({"ok": True, "state": delivery.state})

    def retry_later(self, *, transient: bool) -> HttpResponse:
        """The 5xx answer that makes BabySea deliver again."""
        if transient:
            return JsonResponse({"ok": False, "error": "temporarily unavailable"}, status=503)
        return JsonResponse({"ok": False, "error": "processing failed"}, status=500)

    # -- validation hooks, each raising WebhookRequestError -------------------------------------

    def validate(self, request: HttpRequest) -> VerifiedDelivery:
        body = self.read_body(request)
        signed_at = self.verify_signature(request, body)
        return self.parse_delivery(body, signed_at)

    def read_body(self, request: HttpRequest) -> bytes:
        """The raw body, refused above :attr:`max_body_bytes` before and while reading.

        At most one byte past the limit is read, whatever Content-Length says (or when a
        chunked request has none), so an oversized body is never held whole.
        """
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            too_large = int(declared) > self.max_body_bytes
        except ValueError:
            raise WebhookRequestError("Invalid Content-Length.") from None
        if too_large:
            raise WebhookRequestError("Request body is too large.")
        chunks: list[bytes] = []
        wanted = self.max_body_bytes + 1
        try:
            while wanted > 0 and (chunk := request.read(wanted)):
                chunks.append(chunk)
                wanted -= len(chunk)
        except (OSError, UnreadablePostError):
            raise WebhookRequestError("Request body could not be read.") from None
        if wanted <= 0:
            raise WebhookRequestError("Request body is too large.")
        return b"".join(chunks)

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
        except Exception:
            # With DEBUG on, Django's error page lists every frame's variables and ignores
            # sensitive_variables: the traceback it shows must end here, above the frames that
            # hold the secrets. The log keeps the full traceback (which has no variables).
            logger.exception("The webhook signature check failed unexpectedly.")
            raise RuntimeError("The webhook signature check failed unexpectedly.") from None
        return datetime.fromtimestamp(timestamp, tz=UTC)

    def parse_delivery(self, body: bytes, signed_at: datetime) -> VerifiedDelivery:
        """The envelope of contract section 7.4; the event payload is the services' business.

        What ``webhook_data`` holds is checked when the delivery is processed: a payload that
        can never be applied is stored as ``invalid`` and acknowledged, not refused here.
        """
        if nesting_depth(body) > MAX_DEPTH:
            raise WebhookRequestError(f"Body nests deeper than {MAX_DEPTH} levels.")
        try:
            text = body.decode("utf-8")
            payload = json.loads(text)
        except (ValueError, RecursionError):
            raise WebhookRequestError("Body is not JSON.") from None
        if not isinstance(payload, dict):
            raise WebhookRequestError("Body is not a JSON object.")
        delivery_id = payload.get("webhook_delivery_id")
        try:
            if not isinstance(delivery_id, str):
                raise ValueError
            parsed_id = UUID(delivery_id)
        except ValueError:
            raise WebhookRequestError("Missing or invalid webhook_delivery_id.") from None
        event_type = payload.get("webhook_event")
        if not isinstance(event_type, str) or not 0 < len(event_type) <= 100:
            raise WebhookRequestError("Missing or invalid webhook_event.")
        return VerifiedDelivery(
            delivery_id=parsed_id,
            # No event this version applies has such characters: escaped, it is just unknown.
            event_type=_UNSTORABLE.sub(lambda m: ascii(m.group())[1:-1], event_type),
            generation_id=generation_id_of(payload.get("webhook_data")),
            # The text as received (escapes and all) is plain storable text; the decoded values
            # may hold NUL or lone surrogates, which no database column takes.
            body=text,
            signed_at=signed_at,
        )
