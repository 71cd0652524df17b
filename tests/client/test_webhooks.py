"""Webhook signatures (contract section 7.3) against the contract's test vector."""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from django_babysea.client import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    BabySeaError,
    WebhookSignatureError,
    compute_signature,
    sign,
    verify,
)

VECTOR: dict[str, Any] = json.loads(
    (
        Path(__file__).resolve().parents[1]
        / "contract_examples"
        / "webhook_signature_test_vector.json"
    ).read_text()
)
SECRET: str = VECTOR["secret"]
T: int = VECTOR["t"]
BODY: str = VECTOR["raw_body"]
HEADER: str = VECTOR["headers"]["X-BabySea-Signature"]
V1: str = VECTOR["expected_v1"]
OTHER = "whsec_SomeOtherSecret000000000000"


def test_vector_signature() -> None:
    assert VECTOR["signed_payload"] == f"{T}.{BODY}"
    assert compute_signature(SECRET, BODY, T) == V1
    assert compute_signature(SECRET, BODY.encode(), T) == V1
    assert sign(SECRET, BODY, T) == HEADER == f"t={T},v1={V1}"


def test_vector_verifies() -> None:
    assert verify(SECRET, BODY, HEADER, now=T) == T
    assert verify(SECRET, BODY.encode(), HEADER, now=T + 10) == T
    assert verify([SECRET], BODY, HEADER, now=T) == T


def test_constants() -> None:
    assert SIGNATURE_HEADER == "X-BabySea-Signature"
    assert DEFAULT_TOLERANCE == VECTOR["tolerance_seconds"] == 300


def test_key_is_the_whole_secret_string() -> None:
    stripped = SECRET.removeprefix("whsec_")
    assert compute_signature(stripped, BODY, T) != V1


def test_sign_then_verify_now() -> None:
    body = b'{"webhook_event":"webhook.test"}'
    assert verify(SECRET, body, sign(SECRET, body)) > 0


def test_header_parts_may_be_spaced_and_extended() -> None:
    assert verify(SECRET, BODY, f"t={T}, v1={V1}", now=T) == T
    assert verify(SECRET, BODY, f"v0=abc,v1={V1},t={T}", now=T) == T


def reason_of(*args: Any, **kwargs: Any) -> str:
    with pytest.raises(WebhookSignatureError) as caught:
        verify(*args, **kwargs)
    error = caught.value
    assert isinstance(error, BabySeaError)
    assert SECRET not in str(error)
    assert V1 not in str(error)
    return error.reason


@pytest.mark.parametrize(
    ("secrets", "body", "header", "reason"),
    [
        (SECRET, BODY, "", "missing_signature"),
        (SECRET, BODY, None, "missing_signature"),
        ("", BODY, HEADER, "missing_secret"),
        ([], BODY, HEADER, "missing_secret"),
        ([""], BODY, HEADER, "missing_secret"),
        (SECRET, BODY, f"t={T}", "malformed_header"),
        (SECRET, BODY, f"v1={V1}", "malformed_header"),
        (SECRET, BODY, "garbage", "malformed_header"),
        (SECRET, BODY, f"t=,v1={V1}", "empty_part"),
        (SECRET, BODY, f"t={T},v1=", "empty_part"),
        (SECRET, BODY, f"t=soon,v1={V1}", "bad_timestamp"),
        (SECRET, BODY, f"t={T}.5,v1={V1}", "bad_timestamp"),
        (SECRET, BODY + " ", HEADER, "signature_mismatch"),
        (SECRET, BODY.replace("succeeded", "failed"), HEADER, "signature_mismatch"),
        (OTHER, BODY, HEADER, "signature_mismatch"),
        (SECRET, BODY, f"t={T},v1={V1.upper()}", "signature_mismatch"),
        (SECRET, BODY, f"t={T},v1={V1[:-1]}", "signature_mismatch"),
        (SECRET, BODY, f"t={T + 1},v1={V1}", "signature_mismatch"),
        (SECRET, BODY, f"t={T},v1=ü{V1[1:]}", "signature_mismatch"),
    ],
)
def test_failure_reasons(secrets: Any, body: str, header: str | None, reason: str) -> None:
    assert reason_of(secrets, body, header, now=T) == reason


@pytest.mark.parametrize(("offset", "ok"), [(300, True), (-300, True), (301, False), (-301, False)])
def test_tolerance_both_directions(offset: int, ok: bool) -> None:
    if ok:
        assert verify(SECRET, BODY, HEADER, now=T + offset) == T
    else:
        assert reason_of(SECRET, BODY, HEADER, now=T + offset) == "timestamp_out_of_tolerance"


def test_tolerance_message_and_custom_limit() -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        verify(SECRET, BODY, HEADER, tolerance=60, now=T + 61)
    assert str(caught.value) == "Signature timestamp is 61 s away from now; the limit is 60 s."
    assert verify(SECRET, BODY, HEADER, tolerance=600, now=T + 599) == T


def test_timestamp_is_checked_before_the_digest() -> None:
    assert reason_of(OTHER, BODY, HEADER, now=T + 1000) == "timestamp_out_of_tolerance"


def test_rotation_accepts_any_configured_secret() -> None:
    assert verify([OTHER, SECRET], BODY, HEADER, now=T) == T
    assert verify((SECRET, OTHER), BODY, HEADER, now=T) == T
    assert verify(["", SECRET], BODY, HEADER, now=T) == T
    assert reason_of([OTHER, "whsec_third"], BODY, HEADER, now=T) == "signature_mismatch"


def test_sign_needs_a_secret() -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        sign("", BODY, T)
    assert caught.value.reason == "missing_secret"


def test_digests_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert verify([SECRET, OTHER], BODY, HEADER, now=T) == T
    # every secret is compared, even after the first one matched
    assert len(calls) == 2
    assert calls[0] == (V1.encode(), V1.encode())
    calls.clear()
    reason_of([SECRET, OTHER], BODY.upper(), HEADER, now=T)
    assert len(calls) == 2


def test_error_survives_pickling() -> None:
    import pickle

    with pytest.raises(WebhookSignatureError) as caught:
        verify(SECRET, BODY, "garbage", now=T)
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object
    assert (copy.reason, str(copy)) == ("malformed_header", str(caught.value))


@pytest.mark.parametrize(
    "t_value",
    [
        "9" * 400,  # float(t) overflows: once an OverflowError and a 500
        "-" + "1" * 401,
        "1" * 13,
        f"-{T}",
        f"+{T}",
        f" {T}",
        f"{T} 0",
        f"{T:_}",
        str(T).translate(
            str.maketrans(
                "0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
            )
        ),
        str(T).translate(
            str.maketrans(
                "0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"
            )
        ),
        hex(T),
    ],
)
def test_timestamp_must_be_a_few_ascii_digits(t_value: str) -> None:
    assert reason_of(SECRET, BODY, f"t={t_value},v1={V1}", now=T) == "bad_timestamp"


def test_twelve_digit_timestamps_are_parsed_then_judged_by_tolerance() -> None:
    assert reason_of(SECRET, BODY, f"t={'9' * 12},v1={V1}", now=T) == ("timestamp_out_of_tolerance")
    assert reason_of(SECRET, BODY, f"t=0,v1={V1}", now=T) == "timestamp_out_of_tolerance"
    assert verify(SECRET, BODY, f"t={T:012d},v1={V1}", now=T) == T
