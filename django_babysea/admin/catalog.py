"""The cached model catalog in the admin: a read-only list with a "refresh catalog" button."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from django_babysea.client import BabySeaError
from django_babysea.services import refresh_catalog

__all__ = ["SYNC_PERMISSION", "CatalogModelAdminMixin", "refresh_catalog_from_admin"]

SYNC_PERMISSION = "django_babysea.sync_generations"


def refresh_catalog_from_admin(request: HttpRequest, fallback: str) -> HttpResponse:
    """Fetch the catalog again and say how it went; back to ``next`` (same site) or
    ``fallback``. Needs the ``sync_generations`` permission."""
    if not request.user.has_perm(SYNC_PERMISSION):
        raise PermissionDenied
    try:
        count = refresh_catalog()
    except BabySeaError as exc:
        messages.error(request, _("The catalog could not be refreshed: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Catalog refreshed: %(count)d models.") % {"count": count})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return HttpResponseRedirect(target)


class CatalogModelAdminMixin:
    """The catalog is BabySea's: rows are read, filtered and refreshed, never edited here."""

    list_display: Any = ("model_identifier", "kind", "health", "available", "fetched_at")
    list_filter: Any = ("kind", "health", "available")
    search_fields: Any = ("model_identifier",)
    readonly_fields: Any = (
        "model_identifier",
        "kind",
        "pricing",
        "providers",
        "schema",
        "specific_schema",
        "health",
        "available",
        "fetched_at",
    )
    change_list_template: Any = "admin/django_babysea/catalog/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        info = (self.opts.app_label, self.opts.model_name)  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(require_POST(self.refresh_view))  # type: ignore[attr-defined]
        return [
            path("refresh/", view, name="{}_{}_refresh".format(*info)),
            *super().get_urls(),  # type: ignore[misc]
        ]

    @transaction.non_atomic_requests
    def refresh_view(self, request: HttpRequest) -> HttpResponse:
        changelist = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist"  # type: ignore[attr-defined]
        )
        return refresh_catalog_from_admin(request, changelist)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            "can_refresh_catalog": request.user.has_perm(SYNC_PERMISSION),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)  # type: ignore[misc, no-any-return]
