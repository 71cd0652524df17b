"""How an admin action tells the editor what happened: one message per row, readable errors."""

from __future__ import annotations

from typing import Any, Final

from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_babysea.client import (
    APIError,
    BabySeaError,
    InsufficientCreditsError,
    NetworkError,
    NotCancelableError,
    RequestTimeoutError,
)
from django_babysea.models import Generation

__all__ = ["ACTION_ERRORS", "MAX_LISTED", "Report", "describe_error", "refuse_unoffered_action"]

#: What a row's service call may raise for a reason an editor can read: BabySea's refusals
#: and network failures, bad input or state (``ValueError``), a row deleted meanwhile.
ACTION_ERRORS: Final = (BabySeaError, ValueError, ObjectDoesNotExist)
#: Rows named one by one in the messages of one outcome; the rest are counted.
MAX_LISTED: Final = 10


def describe_error(exc: BaseException) -> str:
    """One readable line for an editor."""
    if isinstance(exc, NotCancelableError):
        text = _("BabySea can no longer cancel it: %(message)s (%(code)s)")
    elif isinstance(exc, InsufficientCreditsError):
        text = _("not enough credits at BabySea: %(message)s (%(code)s)")
    elif isinstance(exc, APIError):
        text = _("BabySea refused: %(message)s (%(code)s)")
    elif isinstance(exc, NetworkError | RequestTimeoutError):
        return _("BabySea could not be reached: %(error)s") % {"error": exc}
    else:
        return str(exc)
    return text % {"message": exc.message, "code": exc.code}


def label(obj: Model) -> str:
    """How a row is named in a message: a generation's ``str()`` carries its status, which the
    action has just changed, so it is named by model and id alone."""
    if isinstance(obj, Generation):
        return f"{obj.model_identifier} {str(obj.generation_id or obj.pk)[:8]}"
    return str(obj)


class Report:
    """Collects each row's outcome and sends them as admin messages, one per row (the first
    :data:`MAX_LISTED` of each outcome, then a count)."""

    def __init__(self, modeladmin: admin.ModelAdmin[Any], request: HttpRequest) -> None:
        self.modeladmin = modeladmin
        self.request = request
        self.outcomes: dict[int, list[str]] = {
            messages.SUCCESS: [],
            messages.WARNING: [],
            messages.ERROR: [],
        }

    def done(self, obj: Model, text: str) -> None:
        self.outcomes[messages.SUCCESS].append(f"{label(obj)}: {text}")

    def skipped(self, obj: Model, text: str) -> None:
        self.outcomes[messages.WARNING].append(f"{label(obj)}: {text}")

    def failed(self, obj: Model, text: str) -> None:
        self.outcomes[messages.ERROR].append(f"{label(obj)}: {text}")

    def send(self) -> None:
        for level, lines in self.outcomes.items():
            for line in lines[:MAX_LISTED]:
                self.modeladmin.message_user(self.request, line, level)
            rest = len(lines) - MAX_LISTED
            if rest > 0:
                more = ngettext(
                    "... and %(count)d more like this.", "... and %(count)d more like these.", rest
                )
                self.modeladmin.message_user(self.request, more % {"count": rest}, level)


def refuse_unoffered_action(model_admin: Any, request: HttpRequest) -> None:
    """Refuse with 403 a POST that names one of ``model_admin``'s actions the user is not
    offered (the admin alone would only say "No action selected.")."""
    if request.method != "POST" or "action" not in request.POST:
        return
    chosen = request.POST.getlist("action")
    try:
        name = chosen[int(request.POST.get("index", 0))]
    except (IndexError, ValueError):
        return
    declared = {getattr(action, "__name__", action) for action in model_admin.actions or ()}
    if name in declared and name not in model_admin.get_actions(request):
        raise PermissionDenied
