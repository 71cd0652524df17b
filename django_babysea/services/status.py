"""What polling clients see of a generation: one rule for the REST API and the pages' live status.

* :func:`status_payload`: the small body of the API's status endpoint.
* Live placeholders: a page renders a placeholder for a generation that is still running (or
  whose output is still being copied) carrying a *live token*, signed with the site's
  ``SECRET_KEY``. The token names the generation and the options the template tag was called
  with, so the status view can tell a visitor about exactly the generations a page showed them,
  and re-render exactly the markup the page would render now, without trusting client input.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from django.core import signing
from django.db.models import Max, QuerySet

from django_babysea.models import Generation, GenerationStatus
from django_babysea.policy import get_policy
from django_babysea.services.media import MediaView, Missing, media_for, with_media

__all__ = [
    "MAX_LIVE",
    "BadLiveToken",
    "LiveRequest",
    "generations_by_id",
    "is_live",
    "is_terminal",
    "parse_ids",
    "read_live_token",
    "sign_live_token",
    "status_payload",
    "version_of",
    "visible_generations",
]

#: Most generations (tokens plus ids) one status request may ask about.
MAX_LIVE: Final = 50

_SALT: Final = "django_babysea.live"
#: Still worth waiting for: the generation runs, or its output is being copied.
_WAITING: Final = (Missing.GENERATING, Missing.STORING)
_PLAIN: Final = (str, int, float, bool, type(None))


class BadLiveToken(ValueError):
    """A live token that was not signed by this site (or not for this purpose)."""


@dataclass(frozen=True)
class LiveRequest:
    """What a live placeholder stands for: a template tag call on one generation."""

    generation_id: uuid.UUID
    kind: str
    index: int
    options: dict[str, Any]


def status_payload(generation: Generation) -> dict[str, Any]:
    """The small body polled by clients: status, error and stored outputs with their URLs."""
    return {
        "id": str(generation.pk),
        "status": generation.status,
        "error_code": generation.error_code,
        "error_message": generation.error_message,
        "outputs": [
            {
                "index": output.index,
                "url": output.url,
                "content_type": output.content_type,
                "width": output.width,
                "height": output.height,
            }
            for output in generation.outputs.all()
            if output.is_stored
        ],
    }


def is_terminal(status: str) -> bool:
    """The lifecycle's rule (:class:`GenerationStatus`): no status follows this one."""
    return GenerationStatus(status).is_terminal


def is_live(view: MediaView) -> bool:
    """Whether a page showing ``view`` should keep asking: nothing is stored yet, and the
    generation is running or its output is being copied (terminal but copy pending)."""
    return view.url is None and view.missing in _WAITING


def sign_live_token(generation: Generation, kind: str, index: int, options: dict[str, Any]) -> str:
    """The token a live placeholder carries. Options are kept as JSON: numbers, strings,
    booleans and None as they are, anything else as its text (what the template prints)."""
    plain = {key: v if isinstance(v, _PLAIN) else str(v) for key, v in options.items()}
    payload = {"g": str(generation.pk), "k": kind, "i": index, "o": plain}
    # No timestamp: the same call renders the same token, so cached pages stay valid.
    return signing.Signer(salt=_SALT).sign_object(payload, compress=True)


def read_live_token(token: str) -> LiveRequest:
    """The request a token stands for; :class:`BadLiveToken` unless this site signed it."""
    try:
        payload = signing.Signer(salt=_SALT).unsign_object(token)
        return LiveRequest(
            generation_id=uuid.UUID(payload["g"]),
            kind=str(payload["k"]),
            index=int(payload["i"]),
            options=dict(payload["o"]),
        )
    except (signing.BadSignature, ValueError, KeyError, TypeError) as exc:
        raise BadLiveToken("not a live token of this site") from exc


def parse_ids(raw: str) -> list[uuid.UUID]:
    """``"<uuid>,<uuid>"`` as UUIDs; ValueError for anything else."""
    return [uuid.UUID(part.strip()) for part in raw.split(",") if part.strip()]


def generations_by_id(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Generation]:
    """The generations with these ids and what rendering them needs, in two queries."""
    wanted = set(ids)
    if not wanted:
        return {}
    found = with_media(Generation.objects.filter(pk__in=wanted).order_by())
    return {generation.pk: generation for generation in found}


def visible_generations(user: Any, ids: Iterable[uuid.UUID]) -> QuerySet[Generation]:
    """Of ``ids``, those the permission policy lets ``user`` see (one query when evaluated)."""
    scoped = get_policy().scope_queryset(user, Generation.objects.all())
    return with_media(scoped.filter(pk__in=set(ids)).order_by())


def version_of(generation: Generation) -> int:
    """A number that grows whenever the generation or one of its outputs changes (the latest
    ``updated_at`` in microseconds): the id of a server-sent event, so a client can resume."""
    stamps = [generation.updated_at]
    outputs = generation.outputs.all()
    if getattr(generation, "_prefetched_objects_cache", {}).get("outputs") is not None:
        stamps += [output.updated_at for output in outputs]
    else:
        latest = outputs.aggregate(latest=Max("updated_at"))["latest"]
        stamps += [latest] if latest is not None else []
    return max(int(stamp.timestamp() * 1_000_000) for stamp in stamps)


def live_view(generation: Generation, live: LiveRequest) -> MediaView:
    """The media a live placeholder waits for, as the page would see it now."""
    return media_for(generation, live.index)
