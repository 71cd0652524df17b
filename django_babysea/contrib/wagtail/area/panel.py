"""The homepage panel: the account's balance and the user's budget today.

The balance is the Django admin dashboard's (:func:`~django_babysea.services.dashboard.
remote_status`): asked of BabySea at most once a minute for the whole site and kept in the
cache framework, so the dashboard of a busy team makes no remote call per page view; while
BabySea cannot be asked, the last balance known (up to a day old) is shown as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from wagtail.admin.ui.components import Component

from django_babysea.services import budget_status
from django_babysea.services.dashboard import remote_status

from .access import may_open_area
from .display import credits

__all__ = ["BudgetPanel", "add_panel"]


class BudgetPanel(Component):  # type: ignore[misc]
    name = "babysea_budget"
    order = 150
    template_name = "babysea_wagtail/area/panel.html"

    def __init__(self, user: Any) -> None:
        self.user = user

    def get_context_data(self, parent_context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        budget = budget_status(self.user)
        remote = remote_status()
        figures = remote.figures
        balance = figures.balance if figures is not None else None
        return {
            "balance": credits(balance) if balance is not None else None,
            "balance_error": remote.error,
            "balance_fetched_at": figures.fetched_at if figures is not None else None,
            "limit": credits(budget.limit) if budget.limit is not None else None,
            "used": credits(budget.used),
            "reserved": credits(budget.reserved),
            "remaining": credits(budget.remaining) if budget.remaining is not None else None,
            "resets_at": budget.resets_at,
            "index_url": reverse("babysea_generations:index"),
            "report_url": reverse("babysea_generations:usage_report"),
        }


def add_panel(request: Any, panels: list[Any]) -> None:
    """The ``construct_homepage_panels`` hook: the panel for who may open the area."""
    if may_open_area(request.user):
        panels.append(BudgetPanel(request.user))
