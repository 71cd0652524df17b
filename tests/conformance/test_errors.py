"""Every error code the contract lists per operation reaches the caller as the right typed error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from django_babysea import client as bs
from django_babysea.client import BabySea
from django_babysea.sandbox import Sandbox

FLUX = "bfl/flux-schnell"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000001"


def raises(call: Callable[[], Any], cls: type[bs.APIError], code: str, status: int) -> bs.APIError:
    with pytest.raises(cls) as info:
        call()
    error = info.value
    assert (error.code, error.status) == (code, status), str(error)
    assert error.request_id is None or error.request_id.startswith("req_")
    return error


def pending_image(client: BabySea, sandbox: Sandbox) -> str:
    sandbox.auto_advance = False
    return client.generate(FLUX, generation_prompt="Seal").generation_id


# -- common to every authenticated endpoint ---------------------------------------------------


def test_missing_key_is_bse1001(sandbox: Sandbox) -> None:
    # The client refuses to send without a key, so the raw request shows the server's answer.
    response = httpx.get(f"{sandbox.url}/v1/status")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "BSE1001"
    with pytest.raises(bs.ConfigurationError):
        BabySea(api_key="", base_url=sandbox.url)


def test_invalid_key_is_bse1002(sandbox: Sandbox) -> None:
    with BabySea(api_key="bye_not_a_real_key", base_url=sandbox.url, max_retries=0) as client:
        raises(client.status, bs.AuthenticationError, "BSE1002", 401)


def test_key_of_another_region_is_bse1002(sandbox: Sandbox) -> None:
    with sandbox.sibling("eu", "bye_eu_only_key_123") as eu:
        with BabySea(api_key=eu.api_key, base_url=sandbox.url, max_retries=0) as client:
            raises(client.status, bs.AuthenticationError, "BSE1002", 401)
        with BabySea(api_key=eu.api_key, base_url=eu.url, region="eu", max_retries=0) as client:
            assert client.status().apikey_prefix == "bye_eu_on"


@pytest.mark.parametrize(
    ("preset", "call"),
    [
        ("generate_only", lambda c: c.status()),
        ("generate_only", lambda c: c.health.cache()),
        ("monitor_only", lambda c: c.generate(FLUX, generation_prompt="x")),
        ("read_only", lambda c: c.delete_generation(UNKNOWN_ID)),
        ("read_only", lambda c: c.cancel_generation(UNKNOWN_ID)),
    ],
)
def test_missing_scope_is_bse1003(
    sandbox: Sandbox, preset: str, call: Callable[[BabySea], Any]
) -> None:
    key = f"bye_scoped_{preset}"
    sandbox.add_key(key, preset)
    with BabySea(api_key=key, base_url=sandbox.url, max_retries=0) as client:
        raises(lambda: call(client), bs.PermissionDeniedError, "BSE1003", 403)


@pytest.mark.babysea_sandbox(rate_limit=3)
def test_rate_limit_is_bse1005_with_headers(client: BabySea) -> None:
    for _ in range(3):
        client.status()
    error = raises(client.status, bs.RateLimitError, "BSE1005", 429)
    assert error.retryable is True
    assert error.retry_after is not None
    assert error.retry_after > 0
    assert error.rate_limit is not None
    assert error.rate_limit.limit == 3


# -- create -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields", "cls", "code", "status"),
    [
        ("acme/nope", {"generation_prompt": "x"}, bs.NotFoundError, "BSE2014", 404),
        (FLUX, {}, bs.InvalidRequestError, "BSE2001", 400),
        (
            FLUX,
            {"generation_prompt": "x", "generation_ratio": "7:3"},
            bs.InvalidRequestError,
            "BSE2001",
            400,
        ),
        (
            FLUX,
            {"generation_prompt": "x", "generation_colour": "red"},
            bs.InvalidRequestError,
            "BSE2001",
            400,
        ),
        (
            FLUX,
            {"generation_prompt": "x", "generation_output_number": 5},
            bs.InvalidRequestError,
            "BSE2008",
            422,
        ),
        (
            FLUX,
            {"generation_prompt": "x", "generation_provider_order": "openai"},
            bs.InvalidRequestError,
            "BSE2001",
            400,
        ),
        (
            "google/veo-2",
            {"generation_prompt": "x", "generation_duration": 7},
            bs.InvalidRequestError,
            "BSE2001",
            400,
        ),
        (FLUX, {"generation_prompt": "x" * 120_000}, bs.InvalidRequestError, "BSE2010", 413),
    ],
)
def test_generate_rejections(
    client: BabySea,
    sandbox: Sandbox,
    model: str,
    fields: dict[str, Any],
    cls: type[bs.APIError],
    code: str,
    status: int,
) -> None:
    before = sandbox.balance()
    raises(lambda: client.generate(model, **fields), cls, code, status)
    assert sandbox.balance() == before


def test_image_route_for_a_video_model_is_bse2001(client: BabySea, sandbox: Sandbox) -> None:
    response = httpx.post(
        f"{sandbox.url}/v1/generate/image/google/veo-2",
        json={"generation_prompt": "x"},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "BSE2001")


def test_insufficient_credits_is_bse1004(client: BabySea, sandbox: Sandbox) -> None:
    sandbox.set_balance("0.001")
    error = raises(
        lambda: client.generate(FLUX, generation_prompt="x"),
        bs.InsufficientCreditsError,
        "BSE1004",
        402,
    )
    assert error.retryable is False


@pytest.mark.babysea_sandbox(plan="free")
def test_concurrency_cap_is_bse1009(client: BabySea, sandbox: Sandbox) -> None:
    pending_image(client, sandbox)
    client.generate(FLUX, generation_prompt="second")
    error = raises(
        lambda: client.generate(FLUX, generation_prompt="third"),
        bs.ConcurrencyLimitError,
        "BSE1009",
        429,
    )
    assert error.details == {"limit": 2, "in_flight": 2, "media_type": "image"}
    assert error.retry_after == 5


@pytest.mark.parametrize(
    "code", ["BSE2002", "BSE2003", "BSE2004", "BSE2005", "BSE2006", "BSE2007", "BSE2009"]
)
def test_input_file_errors(client: BabySea, sandbox: Sandbox, code: str) -> None:
    sandbox.inject("input_file_error", code=code)
    raises(
        lambda: client.generate(
            "bfl/flux-2-pro",
            generation_prompt="x",
            generation_input_file=["https://example.com/in.png"],
        ),
        bs.InvalidRequestError,
        code,
        422,
    )


def test_all_providers_failing_is_bse4003(client: BabySea, sandbox: Sandbox) -> None:
    before = sandbox.balance()
    sandbox.inject("provider_failure", provider="*", stage="submit")
    error = raises(
        lambda: client.generate(FLUX, generation_prompt="x"), bs.ProviderError, "BSE4003", 502
    )
    assert [p.provider for p in error.provider_errors] == ["bfl", "replicate", "cloudflare"]
    assert sandbox.balance() == before


# -- get, delete, cancel ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_generation(UNKNOWN_ID),
        lambda c: c.delete_generation(UNKNOWN_ID),
        lambda c: c.cancel_generation(UNKNOWN_ID),
    ],
)
def test_unknown_generation_is_bse2011(client: BabySea, call: Callable[[BabySea], Any]) -> None:
    raises(lambda: call(client), bs.NotFoundError, "BSE2011", 404)


def test_generation_of_another_account_is_not_found(client: BabySea, sandbox: Sandbox) -> None:
    generation_id = client.generate(FLUX, generation_prompt="mine").generation_id
    sandbox.add_key("bye_other_account_key", "full_access", account="other")
    with BabySea(api_key="bye_other_account_key", base_url=sandbox.url, max_retries=0) as other:
        raises(lambda: other.get_generation(generation_id), bs.NotFoundError, "BSE2011", 404)


def test_delete_in_flight_is_bse2001(client: BabySea, sandbox: Sandbox) -> None:
    generation_id = pending_image(client, sandbox)
    error = raises(
        lambda: client.delete_generation(generation_id), bs.InvalidRequestError, "BSE2001", 400
    )
    assert error.details is not None
    assert error.details["generation_status"] == "pending"


def test_cancel_terminal_is_bse2012(client: BabySea, sandbox: Sandbox) -> None:
    generation_id = client.generate(FLUX, generation_prompt="x").generation_id
    sandbox.run_until_idle()
    raises(lambda: client.cancel_generation(generation_id), bs.NotCancelableError, "BSE2012", 409)


def test_cancel_after_the_window_is_bse2013(client: BabySea, sandbox: Sandbox) -> None:
    generation_id = pending_image(client, sandbox)
    sandbox.travel(601)
    raises(lambda: client.cancel_generation(generation_id), bs.NotCancelableError, "BSE2013", 409)


# -- queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.usage(days=0),
        lambda c: c.usage(days=91),
        lambda c: c.list_generations(offset=-1),
        lambda c: c.estimate("bytedance/seedance-1-pro", duration=5, resolution="8k"),
    ],
)
def test_bad_query_parameters_are_bse2001(client: BabySea, call: Callable[[BabySea], Any]) -> None:
    raises(lambda: call(client), bs.InvalidRequestError, "BSE2001", 400)


def test_estimate_unknown_model_is_bse2014(client: BabySea) -> None:
    raises(lambda: client.estimate("acme/nope"), bs.NotFoundError, "BSE2014", 404)


def test_unknown_route_is_the_edge_403(sandbox: Sandbox) -> None:
    response = httpx.get(
        f"{sandbox.url}/v1/nothing-here", headers={"Authorization": f"Bearer {sandbox.api_key}"}
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/plain")
