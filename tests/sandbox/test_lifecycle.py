"""Generation lifecycle: transitions, failover, cancel, delete, retention, stale jobs, files."""

from __future__ import annotations

import httpx
import pytest

from django_babysea.sandbox import Sandbox

from .conftest import assert_error, client, create, created_id, wait_until


def status_of(api: httpx.Client, generation_id: str) -> str:
    return str(api.get(f"/v1/content/{generation_id}").json()["data"]["generation_status"])


def record(api: httpx.Client, generation_id: str) -> dict[str, object]:
    return dict(api.get(f"/v1/content/{generation_id}").json()["data"])


@pytest.fixture
def manual(sandbox: Sandbox) -> Sandbox:
    sandbox.auto_advance = False
    return sandbox


def test_pending_processing_succeeded_by_hand(api: httpx.Client, manual: Sandbox) -> None:
    generation_id = created_id(create(api))
    data = record(api, generation_id)
    assert data["generation_status"] == "pending"
    assert data["generation_started_at"] is None
    assert data["generation_provider_used"] is None
    manual.advance(generation_id, "processing")
    assert status_of(api, generation_id) == "processing"
    manual.advance(generation_id, "succeeded")
    data = record(api, generation_id)
    assert data["generation_status"] == "succeeded"
    assert data["generation_provider_used"] == "bfl"
    with pytest.raises(ValueError, match="already succeeded"):
        manual.advance(generation_id, "failed")


def test_tick_and_instant_speed(api: httpx.Client, manual: Sandbox) -> None:
    generation_id = created_id(create(api))
    assert manual.tick() == 2  # pending -> processing -> succeeded at speed 0
    assert status_of(api, generation_id) == "succeeded"


def test_background_scheduler_completes_instantly(api: httpx.Client) -> None:
    generation_id = created_id(create(api))
    assert wait_until(lambda: status_of(api, generation_id) == "succeeded", 2)


def test_speed_scales_latency() -> None:
    with Sandbox(speed=0.1) as sb, client(sb) as api:  # 0.04 s pending, 0.25 s processing
        generation_id = created_id(create(api))
        assert status_of(api, generation_id) in ("pending", "processing")
        assert wait_until(lambda: status_of(api, generation_id) == "succeeded", 5)
        data = record(api, generation_id)
        assert isinstance(data["generation_metrics_total_time"], float)
        assert data["generation_metrics_total_time"] >= 0.25
        assert data["generation_metrics_predict_time"] >= 0.2


def test_failover_to_the_next_provider(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("provider_failure", provider="bfl", stage="run", code="BSE4002")
    generation_id = created_id(create(api))
    sandbox.run_until_idle()
    data = record(api, generation_id)
    assert data["generation_status"] == "succeeded"
    assert data["generation_provider_used"] == "replicate"
    attempts = sandbox.generation(generation_id)["_sandbox"]["attempts"]  # type: ignore[index]
    assert [(a["provider"], a["outcome"]) for a in attempts] == [
        ("bfl", "failed"),
        ("replicate", "used"),
    ]


def test_submit_failover_changes_the_prediction_id(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("provider_failure", provider="first", stage="submit")
    data = create(api).json()["data"]
    assert not data["generation_prediction_id"].startswith("bfl_")
    sandbox.run_until_idle()
    assert record(api, data["generation_id"])["generation_provider_used"] == "replicate"


def test_explicit_order_is_followed(api: httpx.Client, sandbox: Sandbox) -> None:
    generation_id = created_id(create(api, generation_provider_order="cloudflare, replicate"))
    sandbox.run_until_idle()
    data = record(api, generation_id)
    assert data["generation_provider_order"] == ["cloudflare", "replicate"]
    assert data["generation_provider_used"] == "cloudflare"


def test_all_providers_fail_synchronously(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("provider_failure", provider="*", stage="submit", code="BSE4005")
    before = sandbox.balance()
    error = assert_error(create(api), "BSE4003", 502)
    assert [p["provider"] for p in error["provider_errors"]] == ["bfl", "replicate", "cloudflare"]
    assert {p["code"] for p in error["provider_errors"]} == {"BSE4005"}
    assert set(error["provider_errors"][0]) == {"provider", "code", "type", "message", "retryable"}
    assert sandbox.balance() == before
    assert api.get("/v1/content/list").json()["total"] == 0


def test_all_providers_fail_asynchronously(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("provider_failure", provider="*", code="BSE4001")
    before = sandbox.balance()
    generation_id = created_id(create(api, "minimax/video-01-director", generation_duration=5))
    sandbox.run_until_idle()
    data = record(api, generation_id)
    assert data["generation_status"] == "failed"
    assert data["generation_error_code"] == "BSE4001"  # a single-provider chain keeps its code
    assert sandbox.balance() == before


def test_cancel_window_and_terminal_states(api: httpx.Client, manual: Sandbox) -> None:
    old = created_id(create(api))
    manual.travel(601)
    error = assert_error(api.post(f"/v1/content/generation/cancel/{old}"), "BSE2013", 409)
    assert error["details"]["cancel_window_seconds"] == 600
    done = created_id(create(api))
    manual.advance(done, "succeeded")
    error = assert_error(api.post(f"/v1/content/generation/cancel/{done}"), "BSE2012", 409)
    assert error["details"]["generation_status"] == "succeeded"


def test_cancel_refunds_and_terminal_is_final(api: httpx.Client, manual: Sandbox) -> None:
    before = manual.balance()
    generation_id = created_id(create(api, "google/veo-2", generation_duration=8))
    assert manual.balance() == before - 4
    manual.advance(generation_id, "processing")
    response = api.post(f"/v1/content/generation/cancel/{generation_id}")
    assert response.json()["data"]["credits_refunded"] is True
    assert manual.balance() == before
    manual.tick()
    data = record(api, generation_id)
    assert data["generation_status"] == "canceled"
    assert data["generation_output_file"] is None
    assert "generation_removed" not in data


def test_provider_without_cancel_api(api: httpx.Client, manual: Sandbox) -> None:
    generation_id = created_id(create(api))  # bfl has no cancel API
    data = api.post(f"/v1/content/generation/cancel/{generation_id}").json()["data"]
    assert data["provider_cancel_sent"] is False


def test_delete_rules(api: httpx.Client, manual: Sandbox) -> None:
    generation_id = created_id(create(api))
    error = assert_error(api.delete(f"/v1/content/{generation_id}"), "BSE2001", 400)
    assert error["details"]["generation_status"] == "pending"
    manual.advance(generation_id, "succeeded")
    url = record(api, generation_id)["generation_output_file"][0]  # type: ignore[index]
    assert httpx.get(url).status_code == 200
    assert api.delete(f"/v1/content/{generation_id}").json()["data"]["files_deleted"] == 1
    again = api.delete(f"/v1/content/{generation_id}")
    assert again.status_code == 200
    assert again.json()["data"]["files_deleted"] == 0
    assert httpx.get(url).status_code == 404
    data = record(api, generation_id)
    assert data["generation_removed"] is True
    assert data["generation_status"] == "succeeded"
    failed = created_id(create(api))
    manual.advance(failed, "failed", error_code="BSE4006")
    assert api.delete(f"/v1/content/{failed}").json()["data"]["files_deleted"] == 0
    assert "generation_removed" not in record(api, failed)
    assert record(api, failed)["generation_error_code"] == "BSE4006"


def test_output_files_are_real_and_support_head(api: httpx.Client, sandbox: Sandbox) -> None:
    generation_id = created_id(
        create(api, generation_output_format="webp", generation_ratio="16:9")
    )
    sandbox.run_until_idle()
    url = record(api, generation_id)["generation_output_file"][0]  # type: ignore[index]
    assert str(url).endswith("/output-0.webp")
    response = httpx.get(str(url))
    assert response.headers["content-type"] == "image/webp"
    assert response.content[:4] == b"RIFF"
    assert response.content[8:12] == b"WEBP"
    head = httpx.head(str(url))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(response.content))
    assert httpx.get(str(url).replace("output-0", "output-1")).status_code == 404
    assert httpx.get(str(url).replace(".webp", ".png")).status_code == 404


def test_video_outputs_are_mp4(api: httpx.Client, sandbox: Sandbox) -> None:
    generation_id = created_id(create(api, "runway/gen4-turbo", generation_duration=5))
    sandbox.run_until_idle()
    url = str(record(api, generation_id)["generation_output_file"][0])  # type: ignore[index]
    response = httpx.get(url)
    assert response.headers["content-type"] == "video/mp4"
    assert response.content[4:8] == b"ftyp"


def test_huge_output_streams_exact_size(api: httpx.Client, sandbox: Sandbox) -> None:
    size = 64 * 1024 * 1024 + 3
    sandbox.inject("huge_output", size=size)
    generation_id = created_id(create(api, "google/veo-2", generation_duration=5))
    sandbox.run_until_idle()
    url = str(record(api, generation_id)["generation_output_file"][0])  # type: ignore[index]
    assert httpx.head(url).headers["content-length"] == str(size)
    received = 0
    with httpx.stream("GET", url) as response:
        assert response.headers["content-length"] == str(size)
        for chunk in response.iter_bytes():
            received += len(chunk)
    assert received == size


def test_retention_removes_files_then_records(api: httpx.Client, sandbox: Sandbox) -> None:
    generation_id = created_id(create(api))
    sandbox.run_until_idle()
    url = str(record(api, generation_id)["generation_output_file"][0])  # type: ignore[index]
    sandbox.travel(23 * 3600)
    assert httpx.get(url).status_code == 200
    sandbox.travel(3600)  # pro plan keeps output files for one day
    data = record(api, generation_id)
    assert data["generation_removed"] is True
    assert data["generation_output_file"] is None
    assert httpx.get(url).status_code == 404
    sandbox.travel(29 * 86400)  # and records for 30 days
    assert_error(api.get(f"/v1/content/{generation_id}"), "BSE2011", 404)


def test_retention_override_and_free_plan() -> None:
    with Sandbox(speed=0, plan="free") as sb, client(sb) as api:
        generation_id = created_id(create(api))
        sb.run_until_idle()
        sb.travel(3600)
        assert record(api, generation_id)["generation_removed"] is True
    with Sandbox(speed=0, retention={"output_files": 5, "records": 10}) as sb, client(sb) as api:
        generation_id = created_id(create(api))
        sb.run_until_idle()
        sb.travel(6)
        assert record(api, generation_id)["generation_removed"] is True
        sb.travel(5)
        assert api.get(f"/v1/content/{generation_id}").status_code == 404


def test_stale_jobs_fail_after_15_minutes(api: httpx.Client, manual: Sandbox) -> None:
    before = manual.balance()
    generation_id = created_id(create(api))
    manual.travel(15 * 60 + 1)
    data = record(api, generation_id)
    assert data["generation_status"] == "failed"
    assert data["generation_error_code"] == "BSE4002"
    assert manual.balance() == before
