"""Rate limits (BSE1005) and plan concurrency caps (BSE1009), contract section 4.4."""

from __future__ import annotations

import time

import pytest

from django_babysea.sandbox import Sandbox

from .conftest import assert_error, assert_shape, client, create, created_id, example


def test_rate_limit_headers_and_429() -> None:
    with Sandbox(speed=0, rate_limit=5, rate_window=60) as sb, client(sb) as api:
        sb.add_key("bye_same_account_key")
        remaining = []
        for _ in range(3):
            response = api.get("/v1/status")
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
            assert response.headers["X-RateLimit-Limit"] == "5"
            reset = int(response.headers["X-RateLimit-Reset"])
            assert time.time() < reset <= time.time() + 61
        assert remaining == [4, 3, 2]
        with client(sb, key="bye_same_account_key") as other:  # shared by the account's keys
            assert other.get("/v1/library/models").headers["X-RateLimit-Remaining"] == "1"
            assert other.get("/v1/status").headers["X-RateLimit-Remaining"] == "0"
        limited = api.get("/v1/status")
        error = assert_error(limited, "BSE1005", 429)
        assert error["retryable"] is True
        assert error["details"]["limit"] == 5
        assert 1 <= error["details"]["retry_after_seconds"] <= 60
        assert limited.headers["Retry-After"] == str(error["details"]["retry_after_seconds"])
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert_shape(limited.json(), example("error_rate_limit"))
        sb.travel(61)
        assert api.get("/v1/status").headers["X-RateLimit-Remaining"] == "4"


def test_error_responses_carry_rate_headers(api: object, sandbox: Sandbox) -> None:
    with client(sandbox) as c:
        response = c.get("/v1/content/8e2c4a61-5f3b-4d9e-a1c7-3b6f0d2e9a18")
        assert response.status_code == 404
        assert response.headers["X-RateLimit-Limit"]


@pytest.mark.parametrize(("plan", "image_cap", "video_cap"), [("free", 2, 1), ("pro", 10, 4)])
def test_concurrency_caps_per_plan(plan: str, image_cap: int, video_cap: int) -> None:
    with Sandbox(speed=0, plan=plan, auto_advance=False, rate_limit=1000) as sb, client(sb) as api:
        for _ in range(image_cap):
            created_id(create(api))
        response = create(api)
        error = assert_error(response, "BSE1009", 429)
        assert response.headers["Retry-After"] == "5"
        assert error["details"] == {
            "limit": image_cap,
            "in_flight": image_cap,
            "media_type": "image",
        }
        assert error["retryable"] is True
        video = [
            created_id(create(api, "google/veo-2", generation_duration=5)) for _ in range(video_cap)
        ]
        over = create(api, "google/veo-2", generation_duration=5)
        assert_shape(over.json(), example("error_concurrency_limit"))
        assert over.json()["error"]["details"]["media_type"] == "video"
        sb.advance(video[0], "succeeded")
        assert create(api, "google/veo-2", generation_duration=5).status_code == 200


def test_concurrency_override() -> None:
    with Sandbox(speed=0, concurrency=(1, 1), auto_advance=False) as sb, client(sb) as api:
        created_id(create(api))
        assert_error(create(api), "BSE1009", 429)
