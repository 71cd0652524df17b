"""Read-only admins of the credit ledger and the webhook deliveries.

Nobody adds, edits or deletes these rows through the admin, not even a superuser: the ledger is
the money trail and a delivery is what BabySea signed. Deliveries can be processed again by an
action (``replay_webhookdelivery`` permission) through the same service as the webhook view.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final, cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from django_babysea import services
from django_babysea.models import CreditEvent, WebhookDelivery

from .outcomes import Report, describe_error, refuse_unoffered_action

if TYPE_CHECKING:
    DeliveryAdmin = admin.ModelAdmin[WebhookDelivery]
else:
    DeliveryAdmin = admin.ModelAdmin

__all__ = ["CreditEventAdminMixin", "WebhookDeliveryAdminMixin"]

STYLES: Final = {"all": ("django_babysea/admin/logs.css",)}


class ReadOnlyMixin:
    """View permission only: no add, change or delete through the admin, for anyone."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CreditEventAdminMixin(ReadOnlyMixin):
    list_display: Any = (
        "created_at",
        "kind",
        "amount",
        "balance",
        "generation_link",
        "source",
    )
    list_filter: Any = ("kind",)
    list_select_related: Any = ("generation",)
    date_hierarchy: Any = "created_at"
    show_facets: Any = admin.ShowFacets.ALWAYS
    search_fields: Any = (
        "generation__generation_id",
        "generation__id",
        "dedupe_key",
        "source",
    )
    fields: Any = (
        "created_at",
        "kind",
        "amount",
        "balance",
        "generation_link",
        "source",
        "dedupe_key",
        "details_display",
    )
    readonly_fields: Any = ("generation_link", "details_display", "created_at")

    class Media:
        css = STYLES

    @admin.display(description=gettext_lazy("generation"), ordering="generation")
    def generation_link(self, obj: CreditEvent) -> str:
        generation = obj.generation
        if generation is None:
            return "-"
        site = cast("admin.ModelAdmin[CreditEvent]", self).admin_site.name
        url = reverse(f"{site}:django_babysea_generation_change", args=[generation.pk])
        return format_html('<a href="{}">{}</a>', url, generation)

    @admin.display(description=gettext_lazy("details"))
    def details_display(self, obj: CreditEvent) -> SafeString:
        return pretty_json(obj.details)


def pretty_json(value: object) -> SafeString:
    return format_html(
        '<pre class="babysea-json">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
    )


@admin.action(description=gettext_lazy("Process again"), permissions=["replay"])
def process_again(
    modeladmin: DeliveryAdmin, request: HttpRequest, queryset: QuerySet[WebhookDelivery]
) -> None:
    """Run each delivery through ``process_delivery`` again; show its new state or error."""
    report = Report(modeladmin, request)
    for delivery in queryset.order_by("received_at", "pk"):
        before = delivery.get_state_display()
        try:
            processed = services.process_delivery(delivery)
        # The service has stored the failure on the row; the editor reads it here.
        except Exception as exc:
            error = describe_error(exc)
            report.failed(delivery, _("failed: %(error)s") % {"error": error})
            modeladmin.log_change(request, delivery, f"Process again: failed: {error}")
            continue
        text = _("%(before)s -> %(after)s") % {
            "before": before,
            "after": processed.get_state_display(),
        }
        if processed.error:
            text += f" ({processed.error})"
            report.failed(processed, text)
        else:
            report.done(processed, text)
        modeladmin.log_change(request, processed, f"Process again: {text}")
    report.send()


class WebhookDeliveryAdminMixin(ReadOnlyMixin):
    list_display: Any = (
        "received_at",
        "event_type",
        "state",
        "attempts",
        "delivery_id",
        "generation_id",
        "processed_at",
    )
    list_filter: Any = ("state", "event_type")
    date_hierarchy: Any = "received_at"
    show_facets: Any = admin.ShowFacets.ALWAYS
    search_fields: Any = ("delivery_id", "generation_id", "event_type")
    fields: Any = (
        "delivery_id",
        "event_type",
        "generation_id",
        "state",
        "error_display",
        "attempts",
        "signature_timestamp",
        "received_at",
        "processed_at",
        "body_display",
    )
    readonly_fields: Any = ("error_display", "body_display", "received_at")
    actions: Any = (process_again,)

    class Media:
        css = STYLES

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return bool(cast(Any, request.user).has_perm("django_babysea.replay_webhookdelivery"))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        refuse_unoffered_action(self, request)
        return cast("DeliveryAdmin", super()).changelist_view(request, extra_context)

    @admin.display(description=gettext_lazy("raw body"))
    def body_display(self, obj: WebhookDelivery) -> SafeString:
        try:
            parsed = json.loads(obj.body)
        except (ValueError, RecursionError):
            return format_html('<pre class="babysea-json">{}</pre>', obj.body)
        return pretty_json(parsed)

    @admin.display(description=gettext_lazy("last error"))
    def error_display(self, obj: WebhookDelivery) -> SafeString | str:
        if not obj.error:
            return "-"
        return format_html('<pre class="babysea-json">{}</pre>', obj.error)
