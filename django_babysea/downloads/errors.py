"""Why a download was refused or failed: one exception with a machine-readable reason."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DownloadError", "Reason", "describe"]


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
    # Anything else that went wrong (a bug, an unforeseen OSError): see the log.
    INTERNAL = "internal"


class DownloadError(Exception):
    """A download that stored nothing. ``reason`` is a :class:`Reason`; the message is one
    readable sentence that never contains credentials (output URLs carry none)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"DownloadError({self.reason.value!r}, {self.message!r})"


def describe(exc: BaseException) -> str:
    """The exception's class, and for an ``OSError`` the system's fixed text ("No space left
    on device"). Never the message of an arbitrary exception: a storage backend or a library
    may put URLs with credentials there, and this text is stored and shown in the admin."""
    name = exc.__class__.__name__
    if isinstance(exc, OSError) and exc.strerror:
        return f"{name}: {exc.strerror}"
    return name
