"""Why a download was refused or failed: one exception with a machine-readable reason."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DownloadError", "Reason"]


class Reason(StrEnum):
    # Refused before any byte was requested.
    BAD_URL = "bad_url"
    INSECURE_SCHEME = "insecure_scheme"
    HOST_NOT_ALLOWED = "host_not_allowed"
    PRIVATE_ADDRESS = "private_address"
    REDIRECT_REFUSED = "redirect_refused"
    # Refused from what the source answered.
    HTTP_STATUS = "http_status"
    GONE = "gone"
    BAD_CONTENT_TYPE = "bad_content_type"
    UNRECOGNISED_FORMAT = "unrecognised_format"
    CONTENT_MISMATCH = "content_mismatch"
    TOO_LARGE = "too_large"
    # The transfer itself broke.
    TIMEOUT = "timeout"
    CONNECT_FAILED = "connect_failed"
    INTERRUPTED = "interrupted"
    # Writing the copy failed.
    STORAGE_ERROR = "storage_error"


class DownloadError(Exception):
    """A download that stored nothing. ``reason`` is a :class:`Reason`; the message is one
    readable sentence that never contains credentials (output URLs carry none)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"DownloadError({self.reason.value!r}, {self.message!r})"
