"""Regions, origins, identification headers and the checks run before any request is sent."""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote, urlsplit

from django_babysea import __version__

from .errors import ConfigurationError

SDK_NAME: Final = "django-babysea"
SDK_VERSION: Final = __version__
RUNTIME: Final = "python"
RUNTIME_VERSION: Final = platform.python_version()
USER_AGENT: Final = f"{SDK_NAME}/{SDK_VERSION} ({RUNTIME}/{RUNTIME_VERSION})"

REGIONS: Final[dict[str, str]] = {
    "us": "https://api.us.babysea.ai",
    "eu": "https://api.eu.babysea.ai",
    "jp": "https://api.jp.babysea.ai",
}
DEFAULT_REGION: Final = "us"
DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_MAX_RETRIES: Final = 2
#: Longest ``Retry-After`` (seconds) a client waits before retrying; above it the error is raised.
DEFAULT_MAX_RETRY_AFTER: Final = 60.0

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_\-:.]{1,255}")
# Printable ASCII without spaces: anything else could never travel in an HTTP header.
_API_KEY = re.compile(r"[\x21-\x7e]+")


def telemetry_headers() -> dict[str, str]:
    """Headers that identify this library on every request (contract section 8)."""
    return {
        "User-Agent": USER_AGENT,
        "X-BabySea-SDK-Name": SDK_NAME,
        "X-BabySea-SDK-Version": SDK_VERSION,
        "X-BabySea-SDK-Runtime": RUNTIME,
        "X-BabySea-SDK-Runtime-Version": RUNTIME_VERSION,
    }


def resolve_origin(region: str, base_url: str | None) -> str:
    """The origin requests go to: ``base_url`` when given, else the region's API host."""
    if not isinstance(region, str) or region not in REGIONS:
        allowed = ", ".join(REGIONS)
        raise ConfigurationError(f"Unknown BabySea region {region!r}; expected one of: {allowed}.")
    if base_url is None:
        return REGIONS[region]
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError("base_url must be an absolute http:// or https:// URL.")
    origin = base_url.rstrip("/")
    # The documentation quotes base URLs with /v1; paths already start with it.
    if origin.endswith("/v1"):
        origin = origin[: -len("/v1")]
    return origin


def check_api_key(api_key: object) -> str:
    """Return the key unchanged, or raise without ever echoing it."""
    if not isinstance(api_key, str) or not api_key.strip():
        raise ConfigurationError("A BabySea API key is required (it starts with 'bye_').")
    if not _API_KEY.fullmatch(api_key):
        raise ConfigurationError(
            "The BabySea API key contains whitespace or non-ASCII characters; "
            "check how it was copied."
        )
    return api_key


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ConfigurationError(
            "Idempotency-Key must be 1-255 characters of letters, digits, '_', '-', ':' or '.'."
        )
    return key


def model_path(model: str) -> str:
    """``model`` as a path fragment: the ``lab/model`` slash stays, as the API expects."""
    segments = model.split("/") if isinstance(model, str) else []
    if not segments or any(s in ("", ".", "..") for s in segments):
        raise ConfigurationError(f"Not a model identifier: {model!r} (expected 'lab/model').")
    return quote(model, safe="/")


def id_path(generation_id: str) -> str:
    """A generation id as one path segment."""
    if not isinstance(generation_id, str) or not generation_id.strip():
        raise ConfigurationError("A generation id is required.")
    return quote(generation_id, safe="")


def check_timeout(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds.")
    return float(value)


def check_max_retry_after(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ConfigurationError("max_retry_after must be a number of seconds >= 0.")
    return float(value)


def check_retries(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError("max_retries must be an integer >= 0.")
    return value


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything a client needs to build requests; ``api_key`` is kept out of ``repr``."""

    api_key: str = field(repr=False)
    region: str
    origin: str
    timeout: float
    max_retries: int
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER

    @classmethod
    def create(
        cls,
        api_key: str,
        region: str,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> ClientConfig:
        return cls(
            api_key=check_api_key(api_key),
            region=region,
            origin=resolve_origin(region, base_url),
            timeout=check_timeout(timeout, "timeout"),
            max_retries=check_retries(max_retries),
            max_retry_after=check_max_retry_after(max_retry_after),
        )
