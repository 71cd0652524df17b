"""``babysea/status/events/``: live status as server-sent events, for sites served over ASGI.

Optional: the polling script (``live.js``) is the default and works under any server. This view
holds one connection per page open, which only an ASGI server can afford; under WSGI it answers
501. It is fed by the status signals, which are sent in the process that applied the change:
a stream only hears about changes made by its own process (a webhook handled by another worker
is seen when the stream is opened again, since each stream starts from the database).

Events: ``event: status``, ``data:`` the JSON entry of the polling view, ``id:`` a version that
grows with every change of the generation (the latest ``updated_at``, in microseconds). A
browser that reconnects sends ``Last-Event-ID``; entries not newer than it are not sent again.
The stream ends when every generation is settled; a reconnect then gets 204, which tells
``EventSource`` to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any, Final

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from django_babysea import signals
from django_babysea.services.status import LiveRequest, generations_by_id, version_of

from .views import BadQuery, entry_for, parse_tokens

__all__ = ["HEARTBEAT", "MAX_AGE", "events_view", "hub"]

#: Seconds between comment lines that keep proxies from closing an idle stream.
HEARTBEAT: float = 15.0
#: Seconds a stream stays open; the browser then reconnects (with Last-Event-ID).
MAX_AGE: float = 600.0
#: What the browser waits before reconnecting, in milliseconds.
RETRY_MS: Final = 3000

Queue = asyncio.Queue[uuid.UUID]


class Hub:
    """Streams waiting for news of generations, in this process. Signal receivers run in any
    thread; each stream's queue belongs to its event loop, so news is handed over with
    ``call_soon_threadsafe``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: defaultdict[uuid.UUID, set[tuple[asyncio.AbstractEventLoop, Queue]]]
        self._waiting = defaultdict(set)

    def subscribe(self, ids: Iterable[uuid.UUID], queue: Queue) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            for pk in ids:
                self._waiting[pk].add((loop, queue))

    def unsubscribe(self, ids: Iterable[uuid.UUID], queue: Queue) -> None:
        with self._lock:
            for pk in ids:
                listeners = self._waiting.get(pk, set())
                listeners -= {pair for pair in listeners if pair[1] is queue}
                if not listeners:
                    self._waiting.pop(pk, None)

    def notify(self, pk: uuid.UUID) -> None:
        with self._lock:
            listeners = list(self._waiting.get(pk, ()))
        for loop, queue in listeners:
            # A closed loop raises: that stream is ending and unsubscribes itself.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, pk)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(listeners) for listeners in self._waiting.values())


hub = Hub()


def _changed(sender: Any, generation: Any = None, **kwargs: Any) -> None:
    if generation is not None:
        hub.notify(generation.pk)


for _signal in (
    signals.generation_status_changed,
    signals.generation_succeeded,
    signals.generation_failed,
    signals.generation_canceled,
    signals.outputs_stored,
):
    _signal.connect(_changed, dispatch_uid="django_babysea.live.sse")


async def events_view(request: HttpRequest) -> HttpResponseBase:
    """``GET ?t=<token>,<token>``: a stream of ``status`` events until all are settled."""
    if request.method != "GET":
        return JsonResponse({"error": _("Only GET is allowed.")}, status=405)
    if not isinstance(request, ASGIRequest):
        message = _("Server-sent events need an ASGI server; poll babysea/status/ instead.")
        return JsonResponse({"error": message}, status=501)
    try:
        lives = parse_tokens(request.GET.get("t", ""))
    except BadQuery as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    if not lives:
        return JsonResponse({"error": _("Give the live tokens to follow (t=).")}, status=400)
    last = _last_event_id(request)
    first = await sync_to_async(_snapshot)(request, lives)
    if last is not None and all(not e["live"] and v <= last for v, e in first):
        return HttpResponse(status=204)  # nothing new, nothing to wait for: EventSource stops
    response = StreamingHttpResponse(_stream(request, lives, last))
    response["Content-Type"] = "text/event-stream"
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would hold events back otherwise
    return response


def _last_event_id(request: HttpRequest) -> int | None:
    try:
        return int(request.headers.get("Last-Event-ID", ""))
    except ValueError:
        return None


def _snapshot(request: HttpRequest, lives: list[LiveRequest]) -> list[tuple[int, dict[str, Any]]]:
    found = generations_by_id(live.generation_id for live in lives)
    snapshot = []
    for live in lives:
        generation = found.get(live.generation_id)
        version = version_of(generation) if generation is not None else 0
        snapshot.append((version, entry_for(request, live, generation)))
    return snapshot


async def _stream(
    request: HttpRequest,
    lives: list[LiveRequest],
    last: int | None,
) -> AsyncIterator[str]:
    queue: Queue = asyncio.Queue()
    ids = {live.generation_id for live in lives}
    hub.subscribe(ids, queue)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_AGE
    sent: dict[int, str] = {}
    following = set(range(len(lives)))
    try:
        yield f"retry: {RETRY_MS}\n\n"
        # Read after subscribing, so that no change falls between the read and the wait.
        snapshot = await sync_to_async(_snapshot)(request, lives)
        while True:
            for chunk in _events(snapshot, following, sent, last):
                yield chunk
            if not following:
                return
            while not await _news(queue, deadline, loop):
                if loop.time() >= deadline:
                    return
                yield ": heartbeat\n\n"
            snapshot = await sync_to_async(_snapshot)(request, lives)
    finally:
        hub.unsubscribe(ids, queue)


def _events(
    snapshot: list[tuple[int, dict[str, Any]]],
    following: set[int],
    sent: dict[int, str],
    last: int | None,
) -> list[str]:
    """Events for the entries that changed (oldest first, so Last-Event-ID is a fair mark);
    settled entries stop being followed. On a resumed stream, an entry not newer than
    Last-Event-ID is taken as already seen."""
    chunks = []
    for position, (version, entry) in sorted(enumerate(snapshot), key=lambda item: item[1][0]):
        if position not in following:
            continue
        data = json.dumps(entry, separators=(",", ":"))
        resumed = position not in sent and last is not None and version <= last
        if not entry["live"]:
            following.discard(position)
        if resumed or sent.get(position) == data:
            sent[position] = data
            continue
        sent[position] = data
        chunks.append(f"id: {version}\nevent: status\ndata: {data}\n\n")
    return chunks


async def _news(queue: Queue, deadline: float, loop: asyncio.AbstractEventLoop) -> bool:
    """Wait for a change (True), or until a heartbeat is due (False)."""
    timeout = max(0.0, min(HEARTBEAT, deadline - loop.time()))
    try:
        await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        return False
    while not queue.empty():  # several signals for one change: read the database once
        queue.get_nowait()
    return True
