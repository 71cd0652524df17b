"""Fault injection: per-request transport faults, provider failures, webhook chaos, broken
output-file downloads."""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Final

__all__ = ["FAULT_KINDS", "OUTPUT_KINDS", "PROFILES", "Fault", "FaultSet"]

#: Faults applied to an API request before (or, for crash_after_commit, after) it is handled.
REQUEST_KINDS: Final = frozenset(
    {
        "server_error",  # 500 BSE5001
        "service_unavailable",  # 503 BSE5002
        "bad_gateway_html",  # 502 with an HTML body, as an upstream proxy sends it
        "http_error",  # any status/code given by ``status`` and ``code``
        "rate_limited",  # 429 BSE1005 with Retry-After
        "slow",  # wait ``seconds`` then answer normally
        "timeout",  # wait ``seconds`` (longer than a client timeout) then drop the connection
        "drop",  # close the connection without any response; nothing is processed
        "slow_body",  # answer normally but trickle the body over ``seconds``
        "crash_after_commit",  # process the request, then drop the connection before answering
    }
)
GENERATION_KINDS: Final = frozenset(
    {
        "provider_failure",  # ``provider`` (id, "first" or "*") fails at ``stage`` submit|run
        "input_file_error",  # the create answers ``code`` (BSE2002-2007, BSE2009) 422
        "huge_output",  # outputs of the generation are ``size`` bytes (padded)
        "webhooks_before_response",  # create answers only after started+completed were delivered
    }
)
WEBHOOK_KINDS: Final = frozenset({"webhook_duplicate", "webhook_out_of_order"})
HEALTH_KINDS: Final = frozenset({"storage_down", "cache_down"})
#: Faults of a GET/HEAD on an output file (``/files/...``), one use per request; see file_faults.
OUTPUT_KINDS: Final = frozenset(
    {
        "output_redirect",  # 302 to ``location`` (default: the same server as localhost)
        "output_content_type",  # the real bytes under the ``content_type`` header
        "output_html",  # an HTML page instead of the file, labelled ``content_type``
        "output_truncated",  # full Content-Length, connection closed after ``size`` bytes
        "output_stall",  # ``size`` bytes, then nothing for ``seconds``, then the connection closes
        "output_unbounded",  # no Content-Length: ``size`` bytes, delimited by closing
        "output_status",  # ``status`` (404) with a short text body
    }
)
FAULT_KINDS: Final = REQUEST_KINDS | GENERATION_KINDS | WEBHOOK_KINDS | HEALTH_KINDS | OUTPUT_KINDS

_DEFAULT_SECONDS: Final = {"slow": 2.0, "timeout": 40.0, "slow_body": 3.0, "output_stall": 40.0}
_PROVIDER_CODES: Final = frozenset(
    {"BSE4001", "BSE4002", "BSE4004", "BSE4005", "BSE4006", "BSE4007", "BSE5001"}
)
_INPUT_CODES: Final = frozenset(
    {"BSE2002", "BSE2003", "BSE2004", "BSE2005", "BSE2006", "BSE2007", "BSE2009"}
)


@dataclass
class Fault:
    kind: str
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    probability: float = 1.0
    status: int | None = None
    code: str | None = None
    seconds: float | None = None
    provider: str | None = None
    stage: str = "run"
    model: str | None = None
    event: str | None = None
    size: int | None = None
    concurrent: bool = False
    retry_after: int = 1
    location: str | None = None
    content_type: str | None = None
    id: str = ""
    used: int = 0
    subjects: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault {self.kind!r}; known: {', '.join(sorted(FAULT_KINDS))}"
            )
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or null for until cleared)")
        if not 0 < self.probability <= 1:
            raise ValueError("probability must be in (0, 1]")
        if self.method is not None:
            self.method = self.method.upper()
        if self.seconds is None and self.kind in _DEFAULT_SECONDS:
            self.seconds = _DEFAULT_SECONDS[self.kind]
        self._check_params()

    def _check_params(self) -> None:
        if self.kind == "provider_failure":
            self.provider = self.provider or "*"
            self.code = self.code or "BSE4001"
            if self.stage not in ("submit", "run") or self.code not in _PROVIDER_CODES:
                raise ValueError("provider_failure needs stage submit|run and a BSE4xxx code")
        if self.kind == "input_file_error":
            self.code = self.code or "BSE2009"
            if self.code not in _INPUT_CODES:
                raise ValueError(f"input_file_error code must be one of {sorted(_INPUT_CODES)}")
        if self.kind == "huge_output" and (self.size is None or self.size < 1):
            raise ValueError("huge_output needs size (bytes)")
        if self.kind == "http_error" and (self.status is None or not 400 <= self.status <= 599):
            raise ValueError("http_error needs a status between 400 and 599")
        if self.kind in OUTPUT_KINDS:
            self._check_output_params()

    def _check_output_params(self) -> None:
        for name in ("location", "content_type"):
            value = getattr(self, name)
            if value is not None and not _header_value(value):
                raise ValueError(f"{name} must be a non-empty header value (no control characters)")
        if self.kind == "output_content_type":
            self.content_type = self.content_type or "text/html; charset=utf-8"
        if self.kind == "output_status":
            self.status = 404 if self.status is None else self.status
            if not 400 <= self.status <= 599:
                raise ValueError("output_status needs a status between 400 and 599")
        if self.kind == "output_stall" and self.size is None:
            self.size = 1024
        if self.kind == "output_unbounded" and self.size is None:
            raise ValueError("output_unbounded needs size (bytes)")
        if self.size is not None and (isinstance(self.size, bool) or self.size < 0):
            raise ValueError(f"{self.kind} needs a size of 0 bytes or more")
        if self.seconds is not None and self.seconds < 0:
            raise ValueError(f"{self.kind} needs seconds of 0 or more")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        known = {f.name for f in fields(cls)} - {"id", "used", "subjects"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        if "kind" not in data:
            raise ValueError("a fault needs a kind")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("subjects")
        return {k: v for k, v in data.items() if v is not None}

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times

    def matches(self, **facts: str | None) -> bool:
        if facts.get("method") and self.method and facts["method"] != self.method:
            return False
        for name in ("path", "model", "event"):
            pattern = getattr(self, name)
            value = facts.get(name)
            if pattern and value is not None and not fnmatch.fnmatchcase(value, pattern):
                return False
        provider = facts.get("provider")
        if self.provider not in (None, "*", "all") and provider is not None:
            wanted = facts.get("first") if self.provider == "first" else self.provider
            if provider != wanted:
                return False
        return not (self.kind == "provider_failure" and facts.get("stage") != self.stage)


def _header_value(value: object) -> bool:
    """Printable latin-1, as ``http.server`` writes headers; no CR/LF to split the response."""
    if not isinstance(value, str) or not value.strip():
        return False
    return all(" " <= char < "\x7f" or "\xa0" <= char <= "\xff" for char in value)


PROFILES: Final[dict[str, list[dict[str, Any]]]] = {
    "flaky": [
        {"kind": "server_error", "path": "/v1/*", "times": None, "probability": 0.1},
        {"kind": "bad_gateway_html", "path": "/v1/*", "times": None, "probability": 0.05},
        {"kind": "drop", "path": "/v1/*", "times": None, "probability": 0.05},
    ],
    "slow": [{"kind": "slow", "path": "/v1/*", "times": None, "seconds": 2.0}],
    "rate-limited": [{"kind": "rate_limited", "times": None, "probability": 0.2}],
    "provider-outage": [{"kind": "provider_failure", "provider": "first", "times": None}],
    "all-providers-down": [
        {"kind": "provider_failure", "provider": "*", "stage": "submit", "times": None}
    ],
    "webhook-chaos": [
        {"kind": "webhook_duplicate", "times": None, "probability": 0.3},
        {"kind": "webhook_out_of_order", "times": None, "probability": 0.3},
    ],
}


class FaultSet:
    """The active faults; each ``take`` consumes one use of the first matching fault."""

    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._next = 1

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault.id = f"fault_{self._next}"
            self._next += 1
            self._faults.append(fault)
        return fault

    def add_profile(self, name: str) -> list[Fault]:
        if name not in PROFILES:
            raise ValueError(f"unknown fault profile {name!r}; known: {', '.join(PROFILES)}")
        return [self.add(Fault.from_dict(dict(spec))) for spec in PROFILES[name]]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults if not f.exhausted]

    def take(
        self, kinds: frozenset[str] | str, *, subject: str | None = None, **facts: str | None
    ) -> Fault | None:
        """The first live fault of ``kinds`` matching ``facts``; a ``subject`` is charged once."""
        wanted = frozenset({kinds}) if isinstance(kinds, str) else kinds
        with self._lock:
            for fault in self._faults:
                if fault.kind not in wanted or not fault.matches(**facts):
                    continue
                if subject is not None and subject in fault.subjects:
                    return fault
                if fault.exhausted:
                    continue
                if fault.probability < 1 and self._random.random() >= fault.probability:
                    continue
                fault.used += 1
                if subject is not None:
                    fault.subjects.add(subject)
                return fault
            self._faults = [f for f in self._faults if not f.exhausted or f.subjects]
        return None

    def active(self, kind: str) -> bool:
        with self._lock:
            return any(f.kind == kind and not f.exhausted for f in self._faults)
