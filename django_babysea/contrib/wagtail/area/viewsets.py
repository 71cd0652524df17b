"""The Generations area as Wagtail viewsets: the history (with inspect, actions and the usage
report under the same URL namespace) and a chooser of generations."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.chooser import ChooseResultsView, ChooseView, ChosenView
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.viewsets.model import ModelViewSet

from django_babysea.models import Generation

try:  # Wagtail 8: policies live in a registry (see register_policy)
    from wagtail.permissions import register_permission_policy
except ImportError:
    register_permission_policy = None

from . import actions
from .access import AreaPermissionPolicy, may_see
from .display import StatusColumn, ThumbnailColumn
from .filters import GenerationFilterSet
from .report import UsageReportView
from .views import (
    GenerationHistoryView,
    GenerationIndexView,
    GenerationInspectView,
    area_queryset,
    prompt_line,
)

__all__ = ["GenerationChooserViewSet", "GenerationViewSet"]

NAME = "babysea_generations"
ACTION_VIEWS: dict[str, Any] = {
    "cancel": actions.CancelView,
    "delete": actions.DeleteView,
    "regenerate": actions.RegenerateView,
    "refine": actions.RefineView,
    "import": actions.ImportView,
}


class InspectURLFinder(ModelAdminURLFinder):  # type: ignore[misc]
    """A generation is never edited in Wagtail: its admin URL (linked from the audit log, the
    chooser widget) is its inspect view, for whoever may see it."""

    def get_edit_url(self, instance: Any) -> str | None:
        if self.user is not None and not may_see(self.user, instance):
            return None
        return reverse(f"{NAME}:inspect", args=[instance.pk])


class GenerationViewSet(ModelViewSet):  # type: ignore[misc]
    model = Generation
    name = NAME
    url_prefix = "babysea/generations"
    icon = "image"
    menu_label = _("Generations")
    menu_order = 250
    add_to_admin_menu = True
    index_view_class = GenerationIndexView
    inspect_view_class = GenerationInspectView
    history_view_class = GenerationHistoryView
    inspect_view_enabled = True
    index_template_name = "babysea_wagtail/area/index.html"
    copy_view_enabled = False
    filterset_class = GenerationFilterSet
    list_per_page = 50
    # Nothing to index: generations are found by the list's filters.
    add_to_reference_index = False

    def get_common_view_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        view_kwargs: dict[str, Any] = super().get_common_view_kwargs(**kwargs)
        # No generic add, edit, delete or usage views (see get_urlpatterns).
        for name in ("add_url_name", "edit_url_name", "delete_url_name", "usage_url_name"):
            view_kwargs[name] = None
        return view_kwargs

    if register_permission_policy is None:  # Wagtail 7.4: the viewset names its policy

        @property
        def permission_policy(self) -> AreaPermissionPolicy:
            return AreaPermissionPolicy(Generation)

    @property
    def url_finder_class(self) -> type[ModelAdminURLFinder]:
        return InspectURLFinder

    def get_permissions_to_register(self) -> QuerySet[Permission]:
        # In Wagtail's group editor: looking at everyone's generations and each BabySea action
        # (the add/change/delete of rows belong to the Django admin).
        content_type = ContentType.objects.get_for_model(Generation)
        return Permission.objects.filter(content_type=content_type).exclude(
            codename__in=["add_generation", "change_generation", "delete_generation"]
        )

    def get_urlpatterns(self) -> list[URLPattern]:
        # The list, inspect and each generation's audit-log history; the generic add, edit and
        # delete of rows are the Django admin's, and BabySea's actions have views of their own.
        patterns = [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("inspect/<uuid:pk>/", self.inspect_view, name="inspect"),
            path("history/<uuid:pk>/", self.history_view, name="history"),
            path("history-results/<uuid:pk>/", self.history_results_view, name="history_results"),
        ]
        for name, view_class in ACTION_VIEWS.items():
            # BabySea is called while the request runs: never inside ATOMIC_REQUESTS.
            view = transaction.non_atomic_requests(view_class.as_view())
            patterns.append(path(f"{name}/<uuid:pk>/", view, name=name))
        report = UsageReportView.as_view
        patterns += [
            path("usage/", report(), name="usage_report"),
            path("usage/results/", report(results_only=True), name="usage_report_results"),
        ]
        return patterns


class _ScopedChooser:
    request: Any

    def get_object_list(self) -> QuerySet[Generation]:
        return area_queryset(self.request.user).order_by("-created_at")


class GenerationChooseView(_ScopedChooser, ChooseView):  # type: ignore[misc]
    @property
    def title_column(self) -> Column:
        column: Column = super().title_column
        column.accessor = prompt_line  # the prompt says more than "model (status) id"
        column.label = _("Prompt")
        return column

    @property
    def columns(self) -> list[Column]:
        return [
            ThumbnailColumn(),
            self.title_column,
            Column("model_identifier", label=_("Model")),
            StatusColumn("status", label=_("Status")),
        ]


class GenerationChooseResultsView(_ScopedChooser, ChooseResultsView):  # type: ignore[misc]
    columns = GenerationChooseView.columns


class GenerationChosenView(ChosenView):  # type: ignore[misc]
    def get_object(self, pk: Any) -> Generation:
        try:
            key = uuid.UUID(str(pk))
        except ValueError:
            raise Generation.DoesNotExist from None  # answered 404 by the view
        return area_queryset(self.request.user).get(pk=key)

    def get_display_title(self, instance: Generation) -> str:
        return prompt_line(instance)

    def get_edit_item_url(self, instance: Generation) -> str | None:
        return InspectURLFinder(self.request.user).get_edit_url(instance)


class GenerationChooserViewSet(ChooserViewSet):  # type: ignore[misc]
    model = Generation
    icon = "image"
    choose_one_text = _("Choose a generation")
    choose_another_text = _("Choose another generation")
    edit_item_text = _("Inspect")
    choose_view_class = GenerationChooseView
    choose_results_view_class = GenerationChooseResultsView
    chosen_view_class = GenerationChosenView
    per_page = 10


def register_policy() -> None:
    """Wagtail 8 looks a model's permission policy up in its registry (a policy named by a
    viewset is deprecated there); Wagtail 7.4 takes the viewset's."""
    if register_permission_policy is not None:
        register_permission_policy(Generation, AreaPermissionPolicy(Generation), exact_class=True)
