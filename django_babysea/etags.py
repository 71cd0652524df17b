"""ETags of the polling endpoints (the admin's live status and the API's status): one rule.

A poll that changes nothing costs a 304 and no body; the tag is a digest of the JSON answer.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.http import HttpRequest
from django.utils.http import parse_etags

__all__ = ["etag_of", "not_modified"]


def etag_of(payload: Any) -> str:
    """A strong ETag for ``payload``, the same for equal payloads whatever their key order."""
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def not_modified(request: HttpRequest, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks) or ``*``."""
    tags = parse_etags(request.headers.get("If-None-Match", ""))
    return "*" in tags or etag in {tag.removeprefix("W/") for tag in tags}
