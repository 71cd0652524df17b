"""Webhook signatures (contract section 7.3), as pure functions.

The key is the whole ``whsec_...`` string taken as UTF-8 bytes; the signed bytes are
``"<t>." + raw body``; the header is ``t=<unix seconds>,v1=<lowercase hex HMAC-SHA256>``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable
from typing import Final, Literal

from .errors import BabySeaError

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "WebhookSignatureError",
    "compute_signature",
    "sign",
    "verify",
]

DEFAULT_TOLERANCE: Final = 300
SIGNATURE_HEADER: Final = "X-BabySea-Signature"
#: ``t=``: Unix seconds as 1 to 12 ASCII digits. ``int()`` would also take a sign, spaces,
#: underscores, other scripts' digits and hundreds of digits (which overflow the float clock).
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}", re.ASCII)

Reason = Literal[
    "missing_signature",
    "missing_secret",
    "malformed_header",
    "empty_part",
    "bad_timestamp",
    "timestamp_out_of_tolerance",
    "signature_mismatch",
]


class WebhookSignatureError(BabySeaError):
    """A delivery whose signature cannot be trusted; ``reason`` names the check that failed."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def compute_signature(secret: str, body: bytes | str, timestamp: int) -> str:
    """The lowercase hex ``v1`` value for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + _as_bytes(body)
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> str:
    """The full ``X-BabySea-Signature`` header value for ``body``."""
    if not secret:
        raise WebhookSignatureError("missing_secret", "No webhook signing secret was given.")
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={compute_signature(secret, body, t)}"


def _parse_header(header: str) -> tuple[int, str]:
    t_value: str | None = None
    v1_value: str | None = None
    for part in header.split(","):
        part = part.strip()
        if t_value is None and part.startswith("t="):
            t_value = part[2:]
        elif v1_value is None and part.startswith("v1="):
            v1_value = part[3:]
    if t_value is None or v1_value is None:
        raise WebhookSignatureError(
            "malformed_header", "Signature header must contain both a t= and a v1= part."
        )
    if not t_value or not v1_value:
        raise WebhookSignatureError("empty_part", "Signature header has an empty t= or v1= value.")
    if not _TIMESTAMP.fullmatch(t_value):
        raise WebhookSignatureError(
            "bad_timestamp", "Signature timestamp is not a Unix time of at most 12 digits."
        )
    return int(t_value), v1_value


def verify(
    secrets: str | Iterable[str],
    body: bytes | str,
    header: str | None,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``body`` with any of ``secrets`` (several allow rotation).

    Returns the signed timestamp. Raises :class:`WebhookSignatureError` otherwise; its message
    never contains a secret or the expected digest.
    """
    if not header:
        raise WebhookSignatureError("missing_signature", "Signature header is missing.")
    candidates = [secrets] if isinstance(secrets, str) else [s for s in secrets if s]
    if not candidates or not all(candidates):
        raise WebhookSignatureError("missing_secret", "No webhook signing secret is configured.")
    timestamp, received = _parse_header(header)
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise WebhookSignatureError(
            "timestamp_out_of_tolerance",
            f"Signature timestamp is {abs(int(age))} s away from now; the limit is {tolerance} s.",
        )
    raw = _as_bytes(body)
    received_bytes = received.encode("ascii", "replace")
    # Every secret is checked, so timing does not reveal which one (if any) matched.
    matched = False
    for secret in candidates:
        expected = compute_signature(secret, raw, timestamp).encode("ascii")
        if hmac.compare_digest(expected, received_bytes):
            matched = True
    if not matched:
        raise WebhookSignatureError("signature_mismatch", "Signature does not match the body.")
    return timestamp
