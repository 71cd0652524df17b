"""The generation admin: change list, change view, live status, and the mixins that add create
and actions.

Everything here renders from the database: previews come from
:func:`~django_babysea.services.media.media_for`, the rule the template tags use too (the stored
copy's URL, built by the storage, which is string work, and the width and height recorded when
it was copied), so a page never opens the storage and never calls BabySea.

Every permission question about generations goes through
:func:`~django_babysea.policy.has_staff_permission` (the model permission, then the configured
policy), and the rows shown through the policy's ``scope_queryset``.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from django import forms
from django.contrib import admin
from django.core.files.storage import storages
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from django_babysea.etags import etag_of, not_modified
from django_babysea.models import (
    CreditEvent,
    Generation,
    GenerationOutput,
    GenerationStatus,
    OutputState,
    WebhookDelivery,
)
from django_babysea.policy import get_policy, has_staff_permission
from django_babysea.services.media import MediaView, Missing, media_for

from .actions import GenerationActionsMixin
from .create import GenerationCreateMixin

if TYPE_CHECKING:
    _Base = admin.ModelAdmin[Generation]
    _Inline = admin.TabularInline[CreditEvent, Generation]
else:
    _Base = object
    _Inline = admin.TabularInline

__all__ = ["CopyStateFilter", "CreditEventInline", "GenerationAdminMixin"]

#: Side of the square the change list's previews fit in, in CSS pixels.
THUMB: Final = 64
#: Most ids one status request may ask about (a page shows at most a few hundred rows).
MAX_STATUS_IDS: Final = 500
#: Webhook deliveries listed on a generation's page, newest first.
MAX_DELIVERIES: Final = 50
#: Characters of the prompt kept as a preview's alternative text.
ALT_CHARS: Final = 100
#: Between a rendition's format and width, as between the width and height of dimensions.
TIMES: Final = " \N{MULTIPLICATION SIGN} "
#: What a preview cell says when there is nothing to show.
MISSING_LABELS: Final = {
    Missing.GENERATING: _("Not ready"),
    Missing.STORING: _("Not copied yet"),
    Missing.FAILED: _("Failed"),
    Missing.CANCELED: _("Canceled"),
    Missing.EXPIRED: _("Expired"),
    Missing.UNAVAILABLE: _("No output"),
}


def _outputs(state: Q) -> Exists:
    return Exists(GenerationOutput.objects.filter(state, generation=OuterRef("pk")))


class CopyStateFilter(admin.SimpleListFilter):
    """Where the generation's output files stand in the site's storage."""

    title = _("copy state")
    parameter_name = "copy"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("stored", _("All stored")),
            ("waiting", _("Waiting or retrying")),
            ("expired", _("Expired before the copy")),
            ("deleted", _("Deleted")),
            ("none", _("No outputs")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        unstored = ~Q(state=OutputState.STORED)
        conditions = {
            "stored": _outputs(Q(state=OutputState.STORED)) & ~_outputs(unstored),
            "waiting": _outputs(
                Q(state__in=(OutputState.PENDING, OutputState.COPYING, OutputState.FAILED))
            ),
            "expired": _outputs(Q(state=OutputState.EXPIRED)),
            "deleted": _outputs(Q(state=OutputState.DELETED)),
            "none": ~_outputs(Q()),
        }
        condition = conditions.get(self.value() or "")
        return None if condition is None else queryset.filter(condition)


class CreditEventInline(_Inline):
    """The generation's ledger entries, read-only: the ledger is append-only."""

    model = CreditEvent
    fields = ("kind", "amount", "balance", "source", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("credit events")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _pill(generation: Generation, status_url: str | None) -> SafeString:
    status = GenerationStatus(generation.status)
    if status.is_terminal or status_url is None:
        return format_html(
            '<span class="babysea-pill babysea-pill--{}">{}</span>', status.value, status.label
        )
    # Unfinished: status.js polls status_url and updates the pill in place.
    return format_html(
        '<span class="babysea-pill babysea-pill--{}" data-babysea-live="{}" '
        'data-babysea-status-url="{}" data-babysea-reload="{}">{}</span>',
        status.value,
        generation.pk,
        status_url,
        _("Finished: reload the page to see the result."),
        status.label,
    )


def _fit(view: MediaView, side: int) -> tuple[int, int]:
    """The media's size scaled to fit a ``side`` square (a square when it is unknown)."""
    if not view.width or not view.height:
        return side, side
    scale = side / max(view.width, view.height)
    return max(1, round(view.width * scale)), max(1, round(view.height * scale))


def _media(source: Generation | GenerationOutput) -> MediaView | None:
    try:
        return media_for(source)
    except Exception:  # a storage alias removed from STORAGES: show a placeholder, not a 500
        return None


def _placeholder(text: Any) -> SafeString:
    return format_html('<span class="babysea-thumb babysea-thumb--empty">{}</span>', text)


class GenerationAdminMixin(GenerationCreateMixin, GenerationActionsMixin, _Base):
    list_display: Any = (
        "preview",
        "status_pill",
        "kind",
        "model_identifier",
        "owner",
        "cost",
        "created_at",
    )
    list_display_links = ("preview", "model_identifier")
    list_filter = ("status", "kind", "model_identifier", CopyStateFilter)
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    show_facets = admin.ShowFacets.ALLOW
    search_fields = ("prompt",)
    search_help_text = _("Prompt text, or a local or BabySea generation id.")
    raw_id_fields = ("owner",)
    inlines = (CreditEventInline,)
    change_list_template = "admin/django_babysea/generation/change_list.html"

    # -- the change list ------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Generation]:
        outputs = GenerationOutput.objects.order_by("index")
        scoped = get_policy().scope_queryset(request.user, super().get_queryset(request))
        return scoped.prefetch_related(Prefetch("outputs", outputs))

    # -- permissions: Django's model permission, then the policy (with the row when known) --------

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_staff_permission(request.user, "view", obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_staff_permission(request.user, "change", obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_staff_permission(request.user, "delete_row", obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Opening the create page; posting it also needs "submit" (see GenerationCreateMixin).
        user = request.user
        return super().has_add_permission(request) and get_policy().has_permission(user, "submit")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Generation], search_term: str
    ) -> tuple[QuerySet[Generation], bool]:
        """An id (either one) is looked up exactly, through the indexes; anything else searches
        the prompts."""
        try:
            wanted = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(Q(pk=wanted) | Q(generation_id=wanted)), False

    @admin.display(description=_("preview"))
    def preview(self, obj: Generation) -> SafeString:
        view = _media(obj)  # reads the prefetched outputs: no query per row
        if view is None:
            return _placeholder(MISSING_LABELS[Missing.UNAVAILABLE])
        if view.url is None:
            return _placeholder(MISSING_LABELS[view.missing or Missing.UNAVAILABLE])
        extra = len(obj.outputs.all()) - 1
        more = format_html('<span class="babysea-more">+{}</span>', extra) if extra > 0 else ""
        if view.kind == "video":
            # A <video> per row would make the browser open every video on the page. The
            # change page plays it.
            return format_html("{}{}", _placeholder(_("Video")), more)
        width, height = _fit(view, THUMB)
        return format_html(
            '<span class="babysea-thumb"><img src="{}" width="{}" height="{}" loading="lazy" '
            'decoding="async" alt="{}"></span>{}',
            view.url,
            width,
            height,
            Truncator(view.prompt).chars(ALT_CHARS) or _("Output 1"),
            more,
        )

    @admin.display(description=_("status"), ordering="status")
    def status_pill(self, obj: Generation) -> SafeString:
        return _pill(obj, None if obj.is_terminal else self._admin_url("status"))

    @admin.display(description=_("credits"), ordering="cost_charged")
    def cost(self, obj: Generation) -> str:
        if obj.cost_charged is not None:
            return _credits(obj.cost_charged)
        if obj.cost_reserved is not None:
            return str(_("~%(credits)s (estimated)") % {"credits": _credits(obj.cost_reserved)})
        return "—"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = dict(extra_context or {})
        if request.user.has_perm("django_babysea.view_dashboard"):
            context["dashboard_url"] = reverse(
                f"{self.admin_site.name}:django_babysea_dashboard_changelist"
            )
        return super().changelist_view(request, context)

    # -- the live status ------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        status = path(
            "status/",
            self.admin_site.admin_view(self.status_view),
            name=f"{opts.app_label}_{opts.model_name}_status",
        )
        return [status, *super().get_urls()]

    @property
    def media(self) -> forms.Media:
        own = forms.Media(
            js=["django_babysea/admin/status.js"],
            css={"all": ["django_babysea/admin/generation.css"]},
        )
        return super().media + own

    def status_view(self, request: HttpRequest) -> HttpResponse:
        """``?ids=<pk>,<pk>…`` -> the status of each generation the user may see, in one query.
        Answers 304 when nothing changed since the ``ETag`` the script sent."""
        if not self.has_view_permission(request):
            return JsonResponse({"error": str(_("You may not view generations."))}, status=403)
        raw = [part for part in request.GET.get("ids", "").split(",") if part.strip()]
        if len(raw) > MAX_STATUS_IDS:
            message = _("Ask about at most %(count)d generations at once.")
            return JsonResponse({"error": message % {"count": MAX_STATUS_IDS}}, status=400)
        try:
            ids = [uuid.UUID(part.strip()) for part in raw]
        except ValueError:
            return JsonResponse({"error": str(_("ids must be generation ids."))}, status=400)
        rows = (
            self.get_queryset(request)
            .prefetch_related(None)
            .select_related(None)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "status")
        )
        payload = {
            "generations": {
                str(pk): {
                    "status": status,
                    "label": str(GenerationStatus(status).label),
                    "terminal": GenerationStatus(status).is_terminal,
                }
                for pk, status in rows
            }
        }
        etag = etag_of(payload)
        if not_modified(request, etag):
            response: HttpResponse = HttpResponseNotModified()
        else:
            response = JsonResponse(payload)
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response

    # -- the change view ------------------------------------------------------------------------

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return super().get_readonly_fields(request, obj)
        # Remote state is BabySea's: only the owner is the site's to change.
        names = [f.name for f in self.opts.concrete_fields if f.name != "owner"]
        return [*names, *_COMPUTED]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return super().get_fieldsets(request, obj)
        if obj.error_code or obj.error_message:
            return _FIELDSETS
        return [fieldset for fieldset in _FIELDSETS if fieldset[0] != _ERROR]

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return super().get_inlines(request, obj) if obj is not None else []

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context["babysea_deliveries"] = self._deliveries(request, obj)
            context["babysea_duplicate_url"] = (
                f"{self._admin_url('add')}?from={obj.pk}"
                if self.has_add_permission(request)
                else None
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _admin_url(self, name: str) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}"
        )

    def _deliveries(self, request: HttpRequest, obj: Generation) -> list[dict[str, Any]] | None:
        """The webhook deliveries about this generation (they carry BabySea's id, not a key),
        or None when the user may not see deliveries."""
        if not request.user.has_perm("django_babysea.view_webhookdelivery"):
            return None
        if obj.generation_id is None:
            return []
        found = WebhookDelivery.objects.filter(generation_id=obj.generation_id).defer("body")
        name = f"{self.admin_site.name}:django_babysea_webhookdelivery_change"
        rows = []
        for delivery in found.order_by("-received_at", "-id")[:MAX_DELIVERIES]:
            try:
                link: str | None = reverse(name, args=[delivery.pk])
            except NoReverseMatch:
                link = None
            rows.append({"delivery": delivery, "url": link})
        return rows

    @admin.display(description=_("status"))
    def status_now(self, obj: Generation) -> SafeString:
        return _pill(obj, None if obj.is_terminal else self._admin_url("status"))

    @admin.display(description=_("outputs"))
    def output_previews(self, obj: Generation) -> SafeString:
        outputs = []
        for output in obj.outputs.all():  # prefetched in index order by get_queryset
            view = _media(output)
            outputs.append(
                {
                    "output": output,
                    "url": view.url if view is not None else None,
                    "renditions": _renditions(output),
                }
            )
        return render_to_string(
            "admin/django_babysea/generation/outputs.html", {"outputs": outputs}
        )

    @admin.display(description=_("request"))
    def request_json(self, obj: Generation) -> SafeString:
        return format_html("<pre class='babysea-json'>{}</pre>", _dump(obj.request))

    @admin.display(description=_("remote record"))
    def remote_json(self, obj: Generation) -> SafeString:
        return format_html("<pre class='babysea-json'>{}</pre>", _dump(obj.remote))


def _renditions(output: GenerationOutput) -> list[dict[str, Any]]:
    """The output's renditions as the page lists them (label, link, size), from the row only:
    the storage builds each URL as a string and is never opened."""
    try:
        storage = storages[output.storage]
    except Exception:  # a storage alias removed from STORAGES: list them without links
        storage = None
    # A hand-edited row may hold anything: skip what cannot be shown.
    items = [i for i in output.renditions or [] if isinstance(i, dict) and i.get("name")]
    items.sort(key=_rendition_order)
    rows = []
    for item in items:
        size = f"{item.get('format', '?')}{TIMES}{item.get('width', '?')}"
        label = _("poster (%(size)s)") % {"size": size} if item.get("role") == "poster" else size
        rows.append(
            {
                "label": label,
                "url": storage.url(item["name"]) if storage is not None else None,
                "width": item.get("width"),
                "height": item.get("height"),
                "bytes": item.get("size"),
            }
        )
    return rows


def _rendition_order(item: dict[str, Any]) -> tuple[str, str, int]:
    width = item.get("width")
    return str(item.get("role")), str(item.get("format")), width if isinstance(width, int) else 0


def _credits(value: Decimal) -> str:
    return f"{value.normalize():f}"  # 10.000 -> "10", never "1E+1"


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


_ERROR: Final = _("Error")
_COMPUTED: Final = ("status_now", "output_previews", "request_json", "remote_json")
_FIELDSETS: Final = (
    (None, {"fields": ("output_previews",)}),
    (
        _("Generation"),
        {
            "fields": (
                "status_now",
                ("kind", "model_identifier"),
                "prompt",
                "owner",
                ("created_at", "completed_at"),
            )
        },
    ),
    (_("Credits"), {"fields": (("cost_reserved", "cost_charged"),)}),
    (_ERROR, {"fields": ("error_code", "error_message")}),
    (
        _("At BabySea"),
        {
            "fields": (
                "generation_id",
                ("provider_used", "prediction_id"),
                "provider_order",
                ("remote_created_at", "started_at"),
                "removed",
                "idempotency_key",
            )
        },
    ),
    (_("Request"), {"fields": ("request_json",)}),
    (_("Remote record"), {"fields": ("remote_json",), "classes": ("collapse",)}),
)
