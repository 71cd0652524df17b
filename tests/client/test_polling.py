"""Walking pages and waiting for generations (contract section 8 polling semantics)."""

from __future__ import annotations

import pytest

from django_babysea.client import (
    BabySea,
    GenerationFailedError,
    GenerationTimeoutError,
)

from .conftest import FakeTime
from .server import Reply, ScriptedServer
from .server import generation_reply as record
from .server import page_reply as page

GEN_ID = "8e2c4a61-5f3b-4d9e-a1c7-3b6f0d2e9a18"
CONTENT = f"/v1/content/{GEN_ID}"


def test_iter_generations_walks_every_page(client: BabySea, server: ScriptedServer) -> None:
    server.script(
        "GET",
        "/v1/content/list",
        page(["a", "b"], 5, 0),
        page(["c", "d"], 5, 2),
        page(["e"], 5, 4),
        page(["never"], 5, 6),
    )
    ids = [g.generation_id for g in client.iter_generations(page_size=2)]
    assert ids == ["a", "b", "c", "d", "e"]
    assert [(r.query["limit"], r.query["offset"]) for r in server.seen()] == [
        (["2"], ["0"]),
        (["2"], ["2"]),
        (["2"], ["4"]),
    ]


def test_iter_generations_stops_at_total(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/content/list", page(["a", "b"], 4, 0), page(["c", "d"], 4, 2))
    assert len(list(client.iter_generations(page_size=2))) == 4
    assert len(server.seen()) == 2


def test_iter_generations_stops_on_an_empty_page(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/content/list", page(["a", "b"], 10, 0), page([], 10, 2))
    assert [g.generation_id for g in client.iter_generations(page_size=2)] == ["a", "b"]
    assert len(server.seen()) == 2


def test_iter_generations_is_lazy(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/content/list", page(["a", "b"], 10, 0))
    iterator = client.iter_generations(page_size=2)
    assert server.seen() == []
    assert next(iterator).generation_id == "a"
    assert len(server.seen()) == 1


def test_wait_until_succeeded(client: BabySea, server: ScriptedServer, fake_time: FakeTime) -> None:
    server.script("GET", CONTENT, record("pending"), record("processing"), record("succeeded"))
    generation = client.wait_for_generation(GEN_ID, interval=3)
    assert generation.generation_status == "succeeded"
    assert generation.generation_output_file is not None
    assert len(server.seen()) == 3
    assert fake_time.sleeps == [3.0, 3.0]


def test_wait_interval_has_a_floor(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.script("GET", CONTENT, record("processing"), record("succeeded"))
    client.wait_for_generation(GEN_ID, interval=0.01)
    assert fake_time.sleeps == [0.5]


def test_wait_raises_on_failed(client: BabySea, server: ScriptedServer) -> None:
    failed = Reply.example("content_get_failed")
    server.script("GET", "/v1/content/5b9e1f37-0c2d-4a86-b4e9-1f7c3d8a6b25", failed)
    with pytest.raises(GenerationFailedError) as caught:
        client.wait_for_generation("5b9e1f37-0c2d-4a86-b4e9-1f7c3d8a6b25")
    error = caught.value
    assert error.generation_id == "5b9e1f37-0c2d-4a86-b4e9-1f7c3d8a6b25"
    assert error.generation_status == "failed"
    assert error.generation_error_code == "BSE4003"
    assert error.generation.model_identifier == "google/veo-2"
    assert str(error) == (
        "All inference providers in the chain failed: replicate timed out, fal returned a "
        "server error. (BSE4003)"
    )


def test_wait_raises_on_canceled(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.script("GET", CONTENT, record("processing"), record("canceled"))
    with pytest.raises(GenerationFailedError) as caught:
        client.wait_for_generation(GEN_ID)
    assert caught.value.generation_status == "canceled"
    assert caught.value.generation_error_code is None
    assert str(caught.value) == f"Generation {GEN_ID} canceled"
    assert fake_time.sleeps == [2.0]


def test_wait_times_out_before_overshooting_the_deadline(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.script("GET", CONTENT, *[record("processing") for _ in range(5)])
    with pytest.raises(GenerationTimeoutError) as caught:
        client.wait_for_generation(GEN_ID, timeout=5, interval=2)
    error = caught.value
    assert (error.generation_id, error.timeout, error.last_status) == (GEN_ID, 5.0, "processing")
    # polls at t=0, 2 and 4; at 4 another 2 s would reach the 5 s deadline
    assert len(server.seen()) == 3
    assert fake_time.sleeps == [2.0, 2.0]
    assert str(error) == (f"Generation {GEN_ID} did not finish within 5s (last status: processing)")


def test_generate_and_wait(client: BabySea, server: ScriptedServer) -> None:
    server.script("POST", "/v1/generate/image/bfl/flux-schnell", Reply.example("generate_image"))
    server.script("GET", CONTENT, record("processing"), record("succeeded"))
    generation = client.generate_and_wait(
        "bfl/flux-schnell", idempotency_key="job-1", generation_prompt="A seal"
    )
    assert generation.generation_id == GEN_ID
    assert [r.method for r in server.seen()] == ["POST", "GET", "GET"]


def test_generate_and_wait_on_a_canceled_replay_fetches_once(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    canceled_id = "e7a3c5d9-4b1f-4e2a-8d60-9c5b2f1e3a7d"
    server.script(
        "POST", "/v1/generate/image/bfl/flux-schnell", Reply.example("generate_replay_canceled")
    )
    server.script(
        "GET",
        f"/v1/content/{canceled_id}",
        record("canceled", generation_id=canceled_id),
        record("canceled", generation_id=canceled_id),
    )
    with pytest.raises(GenerationFailedError) as caught:
        client.generate_and_wait("bfl/flux-schnell", idempotency_key="k", generation_prompt="x")
    assert caught.value.generation_id == canceled_id
    assert [r.method for r in server.seen()] == ["POST", "GET"]
    assert fake_time.sleeps == []
