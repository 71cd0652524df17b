"""The BabySea dashboard page: the ``Dashboard`` proxy's change list, rendered from services.

Charts are inline SVG built here from the service's figures (geometry only, no query, no remote
call of their own); their colours come from the admin's CSS variables in ``dashboard.css``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_babysea.services.dashboard import (
    DaySpend,
    LocalFigures,
    RemoteStatus,
    local_figures,
    remote_status,
)

__all__ = ["DashboardAdminMixin", "column_chart"]

TEMPLATE: Final = "admin/django_babysea/dashboard/dashboard.html"
#: The column chart's drawing box (SVG user units; the SVG scales to its container).
WIDTH: Final = 600
HEIGHT: Final = 160
GAP: Final = 2


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    slot: float
    title: str


def credits(amount: Decimal) -> str:
    return formats.number_format(amount, 3, use_l10n=True)


def column_chart(days: list[DaySpend]) -> list[Column]:
    """One column per day, scaled to the highest day; each carries its tooltip."""
    peak = max((d.charged for d in days), default=Decimal(0))
    slot = WIDTH / max(len(days), 1)
    columns = []
    for number, day in enumerate(days):
        height = float(day.charged / peak * HEIGHT) if peak else 0.0
        title = ngettext(
            "%(day)s: %(amount)s credits charged for %(count)d generation",
            "%(day)s: %(amount)s credits charged for %(count)d generations",
            day.charges,
        ) % {
            "day": formats.date_format(day.day, "SHORT_DATE_FORMAT"),
            "amount": credits(day.charged),
            "count": day.charges,
        }
        columns.append(
            Column(
                x=round(number * slot + GAP / 2, 2),
                y=round(HEIGHT - height, 2),
                width=round(slot - GAP, 2),
                height=round(height, 2),
                slot=round(slot, 2),
                title=title,
            )
        )
    return columns


def share(value: float | Decimal, peak: float | Decimal) -> float:
    """``value`` as a percentage of ``peak`` (the width of a horizontal bar)."""
    return round(float(value) / float(peak) * 100, 2) if peak else 0.0


def dashboard_context(local: LocalFigures, remote: RemoteStatus) -> dict[str, Any]:
    peak_spend = max((m.charged for m in local.by_model), default=Decimal(0))
    peak_status = max((s.count for s in local.by_status), default=0)
    return {
        "local": local,
        "remote": remote,
        "figures": remote.figures,
        "columns": column_chart(local.days),
        "chart": {"width": WIDTH, "height": HEIGHT, "peak": max(d.charged for d in local.days)},
        "by_model": [(m, share(m.charged, peak_spend)) for m in local.by_model],
        "by_status": [(s, share(s.count, peak_status)) for s in local.by_status],
        "activity": [(a, share(a.failure_rate, 1)) for a in local.activity],
    }


class DashboardAdminMixin:
    """Admin of the ``Dashboard`` proxy: its change list is the dashboard, nothing else.

    Needs the ``django_babysea.view_dashboard`` permission. No add, change or delete.
    """

    admin_site: Any
    model: Any

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        # Only the change list: the proxy's rows are generations, edited in their own admin.
        urls: list[URLPattern] = super().get_urls()  # type: ignore[misc]
        return [url for url in urls if url.name and url.name.endswith("_changelist")]

    # BabySea is called while rendering: never inside ATOMIC_REQUESTS' transaction.
    @transaction.non_atomic_requests
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": _("BabySea dashboard"),
            "opts": self.model._meta,
            **dashboard_context(local_figures(), remote_status()),
            **(extra_context or {}),
        }
        return TemplateResponse(request, TEMPLATE, context)
