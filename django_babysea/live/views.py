"""``babysea/status/``: what became of the generations a page shows, for ``live.js`` and htmx.

A visitor may ask about a generation only with a live token the page gave them (signed by the
site, naming the generation and the tag's options), so a public page can go live for anonymous
visitors without revealing any other generation. Generations given by bare ``ids`` go through
the permission policy, as in the REST API.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from django_babysea.etags import etag_of, not_modified
from django_babysea.models import Generation
from django_babysea.services.status import (
    MAX_LIVE,
    BadLiveToken,
    LiveRequest,
    generations_by_id,
    is_live,
    is_terminal,
    live_view,
    parse_ids,
    read_live_token,
    visible_generations,
)
from django_babysea.templatetags.babysea import render_live

__all__ = ["BadQuery", "entry_for", "parse_tokens", "status_view"]

#: htmx stops polling an element when the answer has this status code.
HTMX_STOP_POLLING: Final = 286


class BadQuery(ValueError):
    """A request the status views cannot answer; the message is for the caller."""


def parse_tokens(raw: str) -> list[LiveRequest]:
    """Comma-separated live tokens (as ``t=`` carries them); BadQuery for a bad one."""
    tokens = [part for part in raw.split(",") if part.strip()]
    if len(tokens) > MAX_LIVE:
        raise BadQuery(_("Ask about at most %(count)d generations at once.") % {"count": MAX_LIVE})
    try:
        return [read_live_token(token.strip()) for token in tokens]
    except BadLiveToken:
        raise BadQuery(_("A live token is not valid; reload the page.")) from None


def entry_for(
    request: HttpRequest | None, live: LiveRequest, generation: Generation | None
) -> dict[str, Any]:
    """One placeholder's answer: ``live`` while it should keep asking; once settled, ``html``
    is what the tag renders now (the media, or a final placeholder)."""
    if generation is None:  # deleted since the page was rendered
        return {"id": str(live.generation_id), "status": None, "terminal": True, "live": False}
    entry: dict[str, Any] = {
        "id": str(generation.pk),
        "status": generation.status,
        "terminal": is_terminal(generation.status),
        "live": is_live(live_view(generation, live)),
    }
    if not entry["live"]:
        entry["html"] = render_live(request, live, generation)
    return entry


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _cache_headers(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def status_view(request: HttpRequest) -> HttpResponse:
    """``?t=<token>,<token>`` (and/or ``?ids=<uuid>,…``) -> ``{"generations": [...]}``, one
    entry per token in the order given, then one per visible id. ``?format=html&t=<token>``:
    the htmx fragment (204 while waiting, 200 with the media, 286 with a final placeholder).
    """
    try:
        lives = parse_tokens(request.GET.get("t", ""))
        ids = parse_ids(request.GET.get("ids", ""))
    except BadQuery as exc:
        return _error(str(exc))
    except ValueError:
        return _error(_("ids must be generation ids."))
    if len(lives) + len(ids) > MAX_LIVE:
        return _error(_("Ask about at most %(count)d generations at once.") % {"count": MAX_LIVE})
    if request.GET.get("format") == "html":
        if len(lives) != 1 or ids:
            return _error(_("format=html answers for exactly one live token (t=)."))
        return _fragment(request, lives[0])
    found = generations_by_id(live.generation_id for live in lives)
    entries = [entry_for(request, live, found.get(live.generation_id)) for live in lives]
    entries += [_id_entry(generation) for generation in _in_order(request, ids)]
    payload = {"generations": entries}
    etag = etag_of(payload)
    if not_modified(request, etag):
        return _cache_headers(HttpResponseNotModified(), etag)
    return _cache_headers(JsonResponse(payload), etag)


def _fragment(request: HttpRequest, live: LiveRequest) -> HttpResponse:
    generation = generations_by_id([live.generation_id]).get(live.generation_id)
    entry = entry_for(request, live, generation)
    etag = etag_of(entry)
    if entry["live"]:
        return _cache_headers(HttpResponse(status=204), etag)
    if not_modified(request, etag):
        return _cache_headers(HttpResponseNotModified(), etag)
    # The media replaces the placeholder (and with it htmx's trigger); a final placeholder
    # (failed, canceled, expired) tells htmx to stop asking.
    stored = generation is not None and live_view(generation, live).url is not None
    status = 200 if stored else HTMX_STOP_POLLING
    response = HttpResponse(entry.get("html", ""), status=status, content_type="text/html")
    return _cache_headers(response, etag)


def _in_order(request: HttpRequest, ids: list[uuid.UUID]) -> list[Generation]:
    if not ids:
        return []
    visible = {g.pk: g for g in visible_generations(request.user, ids)}
    return [visible[pk] for pk in dict.fromkeys(ids) if pk in visible]


def _id_entry(generation: Generation) -> dict[str, Any]:
    return {
        "id": str(generation.pk),
        "status": generation.status,
        "terminal": is_terminal(generation.status),
    }
