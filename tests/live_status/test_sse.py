"""``babysea/status/events/``: server-sent events under ASGI (Django's AsyncClient runs the
view on the ASGI handler), fed by the status signals; 501 under WSGI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient, Client

from django_babysea import signals
from django_babysea.live import sse
from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.services.status import sign_live_token, version_of

from .conftest import stored

Make = Callable[..., Generation]
URL = "/babysea/status/events/"


def token(generation: Generation) -> str:
    return sign_live_token(generation, generation.kind, 0, {})


async def chunks(response: Any) -> AsyncIterator[str]:
    async for chunk in response.streaming_content:
        yield chunk.decode() if isinstance(chunk, bytes) else chunk


def event(chunk: str) -> tuple[int, dict[str, Any]]:
    fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
    assert fields["event"] == "status"
    return int(fields["id"]), json.loads(fields["data"])


def test_refused_under_wsgi(client: Client, make_generation: Make) -> None:
    response = client.get(URL, {"t": token(make_generation())})
    assert response.status_code == 501
    assert "ASGI" in response.json()["error"]


def test_bad_tokens_are_refused(make_generation: Make) -> None:
    async def run() -> tuple[int, int]:
        client = AsyncClient()
        bad = await client.get(URL, {"t": "forged:token"})
        none = await client.get(URL)
        return bad.status_code, none.status_code

    assert async_to_sync(run)() == (400, 400)


def test_events_until_stored_then_the_stream_ends(make_generation: Make) -> None:
    generation = make_generation(stored(state="copying", name=""), status="succeeded")

    async def run() -> list[str]:
        response = await AsyncClient().get(URL, {"t": token(generation)})
        assert response.status_code == 200
        assert response["Content-Type"] == "text/event-stream"
        assert response["Cache-Control"] == "no-cache"
        assert response["X-Accel-Buffering"] == "no"
        stream = chunks(response)
        received = [await anext(stream), await anext(stream)]
        assert len(sse.hub) == 1  # following the generation now

        def copied() -> None:
            output = GenerationOutput.objects.get(generation=generation)
            output.state, output.name = OutputState.STORED, "babysea/seal/0.png"
            output.save()  # as copying does: updated_at moves on
            outputs = list(generation.outputs.all())
            signals.outputs_stored.send(sender=Generation, generation=generation, outputs=outputs)

        await sync_to_async(copied)()
        received += [chunk async for chunk in stream]
        return received

    retry, first, *rest = async_to_sync(run)()
    assert retry == "retry: 3000\n\n"
    version, data = event(first)
    assert data == {"id": str(generation.pk), "status": "succeeded", "terminal": True, "live": True}
    [last] = rest  # and then the stream ended
    newer, data = event(last)
    assert newer > version
    assert data["live"] is False
    assert data["html"].startswith('<img src="/media/babysea/seal/0.png"')
    assert len(sse.hub) == 0


def test_heartbeats_while_nothing_changes(
    make_generation: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sse, "HEARTBEAT", 0.05)
    monkeypatch.setattr(sse, "MAX_AGE", 0.3)
    generation = make_generation()

    async def run() -> list[str]:
        response = await AsyncClient().get(URL, {"t": token(generation)})
        return [chunk async for chunk in chunks(response)]

    received = async_to_sync(run)()
    assert received[0].startswith("retry: ")
    assert event(received[1])[1]["status"] == "pending"
    beats = received[2:]
    assert len(beats) >= 2  # the stream ended at MAX_AGE; the browser reconnects
    assert set(beats) == {": heartbeat\n\n"}


def test_resume_skips_what_the_client_has_seen(
    make_generation: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sse, "MAX_AGE", 0.1)
    seen = make_generation()
    newer = make_generation(status="processing")
    Generation.objects.filter(pk=newer.pk).update(status="processing")  # a later updated_at
    newer.refresh_from_db()
    seen.refresh_from_db()
    assert version_of(newer) > version_of(seen)
    tokens = f"{token(seen)},{token(newer)}"

    async def run(last_event_id: int) -> list[str]:
        headers = {"Last-Event-ID": str(last_event_id)}
        response = await AsyncClient().get(URL, {"t": tokens}, headers=headers)
        return [chunk async for chunk in chunks(response) if chunk.startswith("id:")]

    resumed = async_to_sync(run)(version_of(seen))
    assert [event(chunk)[1]["id"] for chunk in resumed] == [str(newer.pk)]


def test_a_reconnect_after_the_end_gets_204(make_generation: Make) -> None:
    """EventSource reconnects when a stream ends; 204 tells it to stop."""
    generation = make_generation(stored(), status="succeeded")

    async def run(headers: dict[str, str]) -> Any:
        return await AsyncClient().get(URL, {"t": token(generation)}, headers=headers)

    version = version_of(generation)
    first = async_to_sync(run)({})
    assert first.status_code == 200
    assert async_to_sync(run)({"Last-Event-ID": str(version)}).status_code == 204
