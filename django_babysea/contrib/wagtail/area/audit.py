"""The audit-log actions the area writes (Reports, Site history, each generation's history).

The library registers and logs ``babysea_wagtail.generate`` and ``babysea_wagtail.import``
where it does them; the area logs ``cancel`` and ``delete`` from its actions.
"""

from __future__ import annotations

from typing import Any, Final

from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogActionRegistry

__all__ = ["ACTIONS", "CANCEL", "DELETE", "register"]

CANCEL: Final = "babysea_wagtail.cancel"
DELETE: Final = "babysea_wagtail.delete"

#: action: (label in the filters, message in the histories).
ACTIONS: Final[dict[str, tuple[Any, Any]]] = {
    CANCEL: (_("Cancel at BabySea"), _("Canceled at BabySea")),
    DELETE: (_("Delete files at BabySea"), _("Files deleted at BabySea")),
}


# Wagtail refuses to store a log entry whose action is not registered.
def register(actions: LogActionRegistry) -> None:
    """The ``register_log_actions`` hook."""
    for action, (label, message) in ACTIONS.items():
        actions.register_action(action, label, message)
