"""What an editor reads when an action fails: one line, never a traceback or a secret."""

from __future__ import annotations

from typing import Final

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from django_babysea.client import (
    APIError,
    BabySeaError,
    InsufficientCreditsError,
    NetworkError,
    NotCancelableError,
    RequestTimeoutError,
)

__all__ = ["ACTION_ERRORS", "describe_error"]

#: What an action's service call may raise for a reason an editor can read: BabySea's
#: refusals and network failures, a refused permission or request, a row deleted meanwhile.
ACTION_ERRORS: Final = (
    BabySeaError,
    ValueError,
    ValidationError,
    PermissionDenied,
    ObjectDoesNotExist,
)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, NotCancelableError):
        text = _("BabySea can no longer cancel it: %(message)s (%(code)s)")
    elif isinstance(exc, InsufficientCreditsError):
        text = _("Not enough credits at BabySea: %(message)s (%(code)s)")
    elif isinstance(exc, APIError):
        text = _("BabySea refused: %(message)s (%(code)s)")
    elif isinstance(exc, NetworkError | RequestTimeoutError):
        return _("BabySea could not be reached: %(error)s") % {"error": exc}
    elif isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    elif isinstance(exc, PermissionDenied):
        return str(exc) or _("You may not do this.")
    else:
        return str(exc)
    return text % {"message": exc.message, "code": exc.code}
