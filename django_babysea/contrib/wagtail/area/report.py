"""The usage report: generations per day, owner and model, with the credits charged and
reserved, as a Wagtail report with CSV and XLSX export.

One grouped query per page (and one for the count), whatever the number of generations;
the export streams the same grouped rows.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from django.contrib.auth import get_user_model
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView

from django_babysea.models import Generation

from .access import AreaPermissionPolicy, scoped, sees_everyone
from .display import CreditsColumn
from .filters import GenerationFilterSet

__all__ = ["UsageFilterSet", "UsageReportView"]


#: The column headings, on the page and in the exported files.
HEADINGS: Final = {
    "day": _("Day"),
    "owner": _("Owner"),
    "model": _("Model"),
    "generations": _("Generations"),
    "charged": _("Credits charged"),
    "reserved": _("Credits reserved"),
}


class UsageFilterSet(GenerationFilterSet):
    prompt = None  # a report sums generations; it does not search them

    class Meta(GenerationFilterSet.Meta):
        fields: tuple[str, ...] = ("created_at", "model_identifier", "owner", "kind", "status")


def usage_rows(generations: QuerySet[Generation]) -> QuerySet[Any, Any]:
    """``generations`` grouped by day (the site's time zone), owner and model."""
    owner = f"owner__{get_user_model().USERNAME_FIELD}"
    rows: QuerySet[Any, Any] = (
        generations.order_by()
        .annotate(day=TruncDate("created_at"), owner_name=F(owner))
        .values("day", "owner_name", "model_identifier")
        .annotate(
            generations=Count("pk"),
            charged=Sum("cost_charged"),
            reserved=Sum("cost_reserved"),
        )
    )
    return rows


class UsageReportView(ReportView):  # type: ignore[misc]
    template_name = "babysea_wagtail/area/report.html"
    page_title = _("Generation usage")
    header_icon = "table"
    index_url_name = "babysea_generations:usage_report"
    index_results_url_name = "babysea_generations:usage_report_results"
    filterset_class = UsageFilterSet
    permission_policy = AreaPermissionPolicy(Generation)
    any_permission_required = ("view",)
    default_ordering = "-day"
    list_export = ("day", "owner_name", "model_identifier", "generations", "charged", "reserved")
    export_headings: ClassVar[dict[str, Any]] = {
        "day": HEADINGS["day"],
        "owner_name": HEADINGS["owner"],
        "model_identifier": HEADINGS["model"],
        "generations": HEADINGS["generations"],
        "charged": HEADINGS["charged"],
        "reserved": HEADINGS["reserved"],
    }
    export_filename = "babysea-usage"

    @cached_property
    def columns(self) -> list[Column]:
        columns = [
            Column("day", label=HEADINGS["day"], sort_key="day"),
            Column("model_identifier", label=HEADINGS["model"], sort_key="model_identifier"),
            Column("generations", label=HEADINGS["generations"], sort_key="generations"),
            CreditsColumn("charged", label=HEADINGS["charged"], sort_key="charged"),
            CreditsColumn("reserved", label=HEADINGS["reserved"], sort_key="reserved"),
        ]
        if sees_everyone(self.request.user):
            columns.insert(1, Column("owner_name", label=HEADINGS["owner"], sort_key="owner_name"))
        return columns

    def get_queryset(self) -> QuerySet[Generation]:
        return scoped(self.request.user)

    def get_filtered_queryset(self) -> QuerySet[Any, Any]:
        # Filter the generations first, then group them: a filter on a grouped row would
        # filter sums, not generations.
        rows = usage_rows(self.filter_queryset(self.get_queryset()))
        ordering = (self.ordering, "model_identifier", "owner_name")
        return rows.order_by(*ordering)
