"""Every documented error answers the contract's envelope and status, and nothing answers 500."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import httpx
import pytest

from django_babysea.sandbox import Sandbox

from .conftest import VALID_UUID, assert_error, assert_shape, client, create, created_id, example

FLUX = "/v1/generate/image/bfl/flux-schnell"
VEO = "/v1/generate/video/google/veo-2"


# -- edge and authentication ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/v1"),
        ("GET", "/v1/status/"),
        ("POST", "/v1/status"),
        ("PUT", "/v1/content/list"),
        ("GET", "/v1/content/not-a-uuid"),
        ("GET", "/v1/health/providers"),
        ("GET", "/v1/billing"),
        ("OPTIONS", "/v1/status"),
        ("HEAD", "/v1/status"),
        ("PATCH", f"/v1/content/{VALID_UUID}"),
        ("GET", "/v1/generate/image/bfl/flux-schnell"),
    ],
)
def test_unknown_routes_get_the_edge_plain_403(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/plain")
    if method != "HEAD":
        assert response.text == "Forbidden"


def test_missing_and_malformed_authorization(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.url) as anonymous:
        assert_error(anonymous.get("/v1/status"), "BSE1001", 401)
        response = anonymous.get("/v1/status", headers={"Authorization": "Basic abc"})
        assert_error(response, "BSE1001", 401)
        assert "X-RateLimit-Limit" not in response.headers
    with client(sandbox, key="bye_unknown_key") as wrong:
        assert_error(wrong.get("/v1/status"), "BSE1002", 401)


def test_key_states_and_account(sandbox: Sandbox) -> None:
    sandbox.add_key("bye_revoked", revoked=True)
    sandbox.add_key("bye_expired", expires_at=time.time() - 1)
    sandbox.add_key("bye_elsewhere", allowed_ips=("10.0.0.0/8",))
    sandbox.add_key("bye_orphan", account="gone")
    sandbox.driver.delete_account("gone")
    for key, code, status in [
        ("bye_revoked", "BSE1002", 401),
        ("bye_expired", "BSE1002", 401),
        ("bye_elsewhere", "BSE1007", 403),
        ("bye_orphan", "BSE1008", 404),
    ]:
        with client(sandbox, key=key) as c:
            assert_error(c.get("/v1/status"), code, status)


def test_key_of_another_region_is_invalid(sandbox: Sandbox) -> None:
    eu = sandbox.sibling("eu", ["bye_eu_key"])
    with eu:
        with client(eu, key=sandbox.api_key) as us_key_on_eu:
            assert_error(us_key_on_eu.get("/v1/status"), "BSE1002", 401)
        with client(sandbox, key="bye_eu_key") as eu_key_on_us:
            assert_error(eu_key_on_us.get("/v1/status"), "BSE1002", 401)
        with client(eu, key="bye_eu_key") as ok:
            assert ok.get("/v1/status").status_code == 200


@pytest.mark.parametrize(
    ("preset", "allowed", "denied"),
    [
        ("generate_only", ["/v1/content/list", "/v1/library/models"], ["/v1/status"]),
        ("read_only", ["/v1/status", "/v1/health/cache"], []),
        ("monitor_only", ["/v1/health/storage", "/v1/estimate/bfl/flux-schnell"], ["/v1/usage"]),
    ],
)
def test_presets_enforce_scopes(
    sandbox: Sandbox, preset: str, allowed: list[str], denied: list[str]
) -> None:
    sandbox.add_key(f"bye_{preset}", preset)
    with client(sandbox, key=f"bye_{preset}") as c:
        for path in allowed:
            assert c.get(path).status_code == 200, path
        for path in denied:
            response = c.get(path)
            error = assert_error(response, "BSE1003", 403)
            assert response.headers["X-RateLimit-Limit"]
            assert "details" in error
        if preset != "generate_only":
            assert_error(create(c), "BSE1003", 403)
            assert_error(c.delete(f"/v1/content/{VALID_UUID}"), "BSE1003", 403)


def test_cli_style_key_spec_with_preset() -> None:
    with Sandbox(["bye_gen:generate_only"], speed=0) as sb, client(sb) as c:
        assert_error(c.get("/v1/status"), "BSE1003", 403)
        assert create(c).status_code == 200


def test_failed_auth_limit_per_ip() -> None:
    with Sandbox(speed=0, auth_failure_limit=3) as sb:
        with client(sb, key="bye_nope") as bad:
            for _ in range(3):
                assert_error(bad.get("/v1/status"), "BSE1002", 401)
            response = bad.get("/v1/status")
        error = assert_error(response, "BSE1006", 429)
        assert error["retryable"] is True
        assert int(response.headers["Retry-After"]) > 0
        with client(sb) as good:
            assert_error(good.get("/v1/status"), "BSE1006", 429)


# -- create validation ----------------------------------------------------------------------
def post(api: httpx.Client, path: str, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.post(path, content=content, headers={"Content-Type": "application/json", **headers})


PROMPT = {"generation_prompt": "x"}


@pytest.mark.parametrize(
    ("path", "body", "code", "status", "field"),
    [
        (FLUX, b"{not json", "BSE2001", 400, "body"),
        (FLUX, b"", "BSE2001", 400, "body"),
        (FLUX, b"\xff\xfe", "BSE2001", 400, "body"),
        (FLUX, [1, 2], "BSE2001", 400, "body"),
        (FLUX, "a string", "BSE2001", 400, "body"),
        (FLUX, {}, "BSE2001", 400, "generation_prompt"),
        (FLUX, {"generation_prompt": "  "}, "BSE2001", 400, "generation_prompt"),
        (FLUX, {"generation_prompt": 5}, "BSE2001", 400, "generation_prompt"),
        (FLUX, {**PROMPT, "surprise": 1}, "BSE2001", 400, "surprise"),
        (FLUX, {**PROMPT, "generation_duration": 5}, "BSE2001", 400, "generation_duration"),
        (FLUX, {**PROMPT, "generation_ratio": "7:3"}, "BSE2001", 400, "generation_ratio"),
        (FLUX, {**PROMPT, "generation_ratio": 1}, "BSE2001", 400, "generation_ratio"),
        (FLUX, {**PROMPT, "generation_output_format": "gif"}, "BSE2001", 400, None),
        (FLUX, {**PROMPT, "generation_output_number": "1"}, "BSE2001", 400, None),
        (FLUX, {**PROMPT, "generation_output_number": True}, "BSE2001", 400, None),
        (FLUX, {**PROMPT, "generation_output_number": 2}, "BSE2008", 422, None),
        (FLUX, {**PROMPT, "generation_output_number": 0}, "BSE2008", 422, None),
        (
            FLUX,
            {**PROMPT, "generation_input_file": ["https://a.example/x.png"]},
            "BSE2001",
            400,
            None,
        ),
        (FLUX, {**PROMPT, "generation_provider_order": "openai"}, "BSE2001", 400, None),
        (FLUX, {**PROMPT, "generation_provider_order": "bfl, bfl"}, "BSE2001", 400, None),
        (FLUX, {**PROMPT, "generation_provider_order": ["bfl"]}, "BSE2001", 400, None),
        (FLUX, {**PROMPT, "generation_seed": -1}, "BSE2008", 422, "generation_seed"),
        (FLUX, {**PROMPT, "generation_seed": "1"}, "BSE2001", 400, "generation_seed"),
        (FLUX, {**PROMPT, "generation_prompt": "x" * 10_001}, "BSE2001", 400, None),
        (VEO, PROMPT, "BSE2001", 400, "generation_duration"),
        (VEO, {**PROMPT, "generation_duration": 6}, "BSE2001", 400, "generation_duration"),
        (VEO, {**PROMPT, "generation_duration": 60}, "BSE2008", 422, "generation_duration"),
        (VEO, {**PROMPT, "generation_duration": 5.0}, "BSE2001", 400, "generation_duration"),
        (
            VEO,
            {**PROMPT, "generation_duration": 5, "generation_resolution": "4k"},
            "BSE2001",
            400,
            None,
        ),
        (
            VEO,
            {**PROMPT, "generation_duration": 5, "generation_generate_audio": True},
            "BSE2001",
            400,
            None,
        ),
        ("/v1/generate/video/bfl/flux-schnell", PROMPT, "BSE2001", 400, "model_identifier"),
        ("/v1/generate/image/google/veo-2", PROMPT, "BSE2001", 400, "model_identifier"),
        ("/v1/generate/image/acme/imaginary", PROMPT, "BSE2014", 404, None),
    ],
)
def test_create_validation(
    api: httpx.Client, path: str, body: Any, code: str, status: int, field: str | None
) -> None:
    error = assert_error(post(api, path, body), code, status)
    if field is not None:
        assert error["details"]["field"] == field
    if code == "BSE2001":
        assert "field" in error["details"]


@pytest.mark.parametrize(
    ("files", "code", "status"),
    [
        (["http://a.example/x.png"], "BSE2001", 400),
        (["ftp://a.example/x.png"], "BSE2001", 400),
        ([7], "BSE2001", 400),
        ("https://a.example/x.png", "BSE2001", 400),
        (["https://a.example/1.png", "https://a.example/2.png"], "BSE2008", 422),
        (["https://a.example/x.gif"], "BSE2004", 422),
        (["https://assets.invalid/x.png"], "BSE2009", 422),
    ],
)
def test_input_file_checks(api: httpx.Client, files: Any, code: str, status: int) -> None:
    response = create(api, "google/nano-banana", generation_input_file=files)
    assert_error(response, code, status)


def test_input_file_limits_and_provider_orders_accepted(api: httpx.Client) -> None:
    three = [f"https://a.example/{i}.webp" for i in range(3)]
    assert create(api, "bfl/flux-2-pro", generation_input_file=three).status_code == 200
    for order in ["fastest", "cloudflare, bfl", " replicate,bfl ,cloudflare", "replicate"]:
        response = create(api, generation_provider_order=order)
        assert response.status_code == 200, response.text
    single = create(api, "minimax/video-01-director", generation_duration=5)
    assert single.json()["data"]["generation_provider_order"] == ["replicate"]
    extras = create(
        api,
        "qwen/image",
        generation_negative_prompt="blur",
        generation_seed=7,
        generation_guidance=4.5,
    )
    assert extras.status_code == 200, extras.text


def test_body_over_100_kb_is_413(api: httpx.Client) -> None:
    big = {"generation_prompt": "x" * (101 * 1024)}
    response = post(api, FLUX, big)
    error = assert_error(response, "BSE2010", 413)
    assert error["type"] == "payload_too_large"
    assert api.get("/v1/status").status_code == 200  # the connection is still usable


def test_huge_body_is_refused_without_reading_it(sandbox: Sandbox) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * (1024 * 1024)

    with client(sandbox) as c:
        try:
            response = c.post(FLUX, content=chunks(), headers={"Content-Type": "application/json"})
        except httpx.TransportError:
            return  # the server closed the connection early, which is allowed
        assert_error(response, "BSE2010", 413)


def test_invalid_idempotency_key(api: httpx.Client) -> None:
    for bad in ["has space", "x" * 256, "émoji", "a/b"]:
        response = post(api, FLUX, PROMPT, **{"Idempotency-Key": bad}) if bad.isascii() else None
        if response is None:
            continue
        error = assert_error(response, "BSE2001", 400)
        assert error["details"]["field"] == "Idempotency-Key"


# -- generation ids -------------------------------------------------------------------------
def test_unknown_generation_everywhere(api: httpx.Client, sandbox: Sandbox) -> None:
    assert_error(api.get(f"/v1/content/{VALID_UUID}"), "BSE2011", 404)
    assert_error(api.delete(f"/v1/content/{VALID_UUID}"), "BSE2011", 404)
    assert_error(api.post(f"/v1/content/generation/cancel/{VALID_UUID}"), "BSE2011", 404)
    sandbox.add_key("bye_other_account", account="other")
    generation_id = created_id(create(api))
    with client(sandbox, key="bye_other_account") as other:
        assert_error(other.get(f"/v1/content/{generation_id}"), "BSE2011", 404)
        assert other.get("/v1/content/list").json()["total"] == 0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/usage?days=0", "days"),
        ("/v1/usage?days=91", "days"),
        ("/v1/usage?days=abc", "days"),
        ("/v1/content/list?limit=-1", "limit"),
        ("/v1/content/list?limit=0", "limit"),
        ("/v1/content/list?limit=1.5", "limit"),
        ("/v1/content/list?offset=-3", "offset"),
        ("/v1/estimate/bfl/flux-schnell?count=x", "count"),
        ("/v1/estimate/google/veo-2?duration=six", "duration"),
        ("/v1/estimate/google/veo-2?duration=6", "duration"),
        ("/v1/estimate/kling/v1.5-pro?resolution=4k", "resolution"),
        ("/v1/estimate/bytedance/seedance-1.5-pro?audio=yes", "audio"),
    ],
)
def test_query_parameter_errors(api: httpx.Client, path: str, field: str) -> None:
    error = assert_error(api.get(path), "BSE2001", 400)
    assert error["details"]["field"] == field


def test_estimate_clamps_count_and_range_errors(api: httpx.Client) -> None:
    assert api.get("/v1/estimate/bfl/flux-schnell?count=500").json()["data"]["assets_count"] == 100
    assert api.get("/v1/estimate/bfl/flux-schnell?count=-4").json()["data"]["assets_count"] == 1
    assert_error(api.get("/v1/estimate/google/veo-2?duration=60"), "BSE2008", 422)
    assert_error(api.get("/v1/estimate/nope/nothing"), "BSE2014", 404)


def test_error_examples_shapes(api: httpx.Client, sandbox: Sandbox) -> None:
    response = post(api, FLUX, {**PROMPT, "generation_ratio": "7:3"})
    assert_shape(response.json(), example("error_invalid_input"))
    sandbox.set_balance("0")
    assert_shape(create(api).json(), example("error_insufficient_credits"))


# -- garbage --------------------------------------------------------------------------------
def _garbage(rng: random.Random) -> Any:
    choices: list[Any] = [
        None,
        True,
        rng.randint(-(10**12), 10**12),
        rng.random() * 1e6,
        "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 30))),
        [rng.randint(0, 9) for _ in range(rng.randint(0, 3))],
        {"nested": [None, {"deep": "x"}]},
    ]
    return rng.choice(choices)


def test_random_bodies_never_cause_server_errors(api: httpx.Client) -> None:
    rng = random.Random(20260610)
    fields = [
        "generation_prompt",
        "generation_ratio",
        "generation_output_format",
        "generation_output_number",
        "generation_input_file",
        "generation_provider_order",
        "generation_duration",
        "generation_resolution",
        "generation_generate_audio",
        "generation_seed",
        "generation_input_file_last_content",
        "other",
    ]
    models = ["bfl/flux-schnell", "google/veo-2", "bytedance/seedance-1.5-pro", "qwen/image", "x"]
    for _ in range(300):
        body: Any = {f: _garbage(rng) for f in rng.sample(fields, rng.randint(0, 6))}
        if rng.random() < 0.1:
            body = _garbage(rng)
        raw = json.dumps(body).encode() if rng.random() < 0.9 else bytes(rng.randbytes(20))
        route = rng.choice(["image", "video"])
        response = post(api, f"/v1/generate/{route}/{rng.choice(models)}", raw)
        assert response.status_code < 500, (body, response.text)
        assert response.json()["status"] in ("success", "error")
    for _ in range(100):
        query = {k: str(_garbage(rng)) for k in rng.sample(["days", "limit", "offset"], 2)}
        for path in ("/v1/usage", "/v1/content/list"):
            assert api.get(path, params=query).status_code < 500
