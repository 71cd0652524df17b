"""Wagtail hooks of the Generations area."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import audit
from .access import may_open_area
from .panel import add_panel
from .variants import CreateVariantsBulkAction
from .viewsets import GenerationChooserViewSet, GenerationViewSet, register_policy

__all__ = ["generation_chooser_viewset", "generation_viewset"]

generation_viewset = GenerationViewSet()
generation_chooser_viewset = GenerationChooserViewSet("babysea_generation_chooser")


class UsageReportMenuItem(MenuItem):  # type: ignore[misc]
    def is_shown(self, request: Any) -> bool:
        return may_open_area(request.user)


def register_viewsets() -> list[Any]:
    register_policy()
    return [generation_viewset, generation_chooser_viewset]


def register_usage_report() -> MenuItem:
    return UsageReportMenuItem(
        _("Generation usage"),
        reverse("babysea_generations:usage_report"),
        name="babysea-usage",
        icon_name="table",
        order=900,
    )


hooks.register("register_admin_viewset", register_viewsets)
hooks.register("register_reports_menu_item", register_usage_report)
hooks.register("register_log_actions", audit.register)
hooks.register("construct_homepage_panels", add_panel)
hooks.register("register_bulk_action", CreateVariantsBulkAction)
