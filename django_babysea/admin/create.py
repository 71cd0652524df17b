"""Creating a generation in the admin: pick a model, then fill in the fields it accepts.

The page is built from the catalog cached in the database (no BabySea call when it is fresh);
the cost estimate and the balance are fetched by a small script from :meth:`estimate_view`.
Submitting needs the ``submit_generation`` permission and the permission policy's ``submit``
(see :func:`~django_babysea.policy.has_staff_permission`), and goes through
:func:`~django_babysea.services.submit_generation` with an idempotency key derived from a
token in the form, so posting the same form twice creates one generation.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.timezone import is_aware, localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from django_babysea.client import BabySeaError
from django_babysea.models import CatalogModel, Generation
from django_babysea.policy import has_staff_permission
from django_babysea.services import (
    BudgetStatus,
    CatalogState,
    CatalogUnavailableError,
    budget_status,
    estimate,
    load_catalog,
    submit_generation,
)

from .catalog import SYNC_PERMISSION, refresh_catalog_from_admin
from .forms import GenerationRequestForm, form_idempotency_key, initial_from

__all__ = ["GenerationCreateMixin"]

TEMPLATES = "admin/django_babysea/create/"


def _price(model: CatalogModel) -> str:
    pricing = model.pricing
    unit = _("per second") if model.kind == "video" else _("per output")
    if isinstance(pricing, int | float):
        return _("%(price)s credits %(unit)s") % {"price": f"{pricing:.3f}", "unit": unit}
    if isinstance(pricing, dict) and pricing:
        low, high = min(pricing.values()), max(pricing.values())
        return _("%(low)s to %(high)s credits %(unit)s") % {
            "low": f"{low:.3f}",
            "high": f"{high:.3f}",
            "unit": unit,
        }
    return _("price unknown")


def _budget_text(budget: BudgetStatus) -> str:
    return _(
        "Your daily budget: %(remaining)s of %(limit)s credits left today "
        "(%(used)s used, %(reserved)s reserved); it resets at %(resets_at)s."
    ) % {
        "remaining": budget.remaining,
        "limit": budget.limit,
        "used": budget.used,
        "reserved": budget.reserved,
        "resets_at": date_format(
            localtime(budget.resets_at) if is_aware(budget.resets_at) else budget.resets_at,
            "DATETIME_FORMAT",
        ),
    }


def _estimate_data(request: HttpRequest) -> dict[str, Any]:
    """The estimate of the fields in the query string, as JSON-ready data."""
    query = request.GET

    def number(name: str) -> int | None:
        value = query.get(name, "")
        return int(value) if value.isdigit() else None

    audio = query.get("generation_generate_audio")
    result = estimate(
        query.get("model", ""),
        count=number("generation_output_number"),
        duration=number("generation_duration"),
        resolution=query.get("generation_resolution") or None,
        audio=None if audio is None else audio in ("on", "true", "1"),
    )
    text = _("Estimated cost: %(cost)s credits.") % {"cost": f"{result.cost_total_consumed:.3f}"}
    if result.credit_balance is not None:
        text += " " + _("Balance: %(balance)s credits.") % {
            "balance": f"{result.credit_balance:.3f}"
        }
    if result.credit_balance_can_afford is False:
        text += " " + _("The balance does not cover this generation.")
    return {
        "cost": result.cost_total_consumed,
        "balance": result.credit_balance,
        "can_afford": result.credit_balance_can_afford,
        "text": text,
    }


class GenerationCreateMixin:
    """The add view of ``Generation`` replaced by the two-step create page."""

    def _url(self, name: str, *args: Any) -> str:
        opts = self.opts  # type: ignore[attr-defined]
        site = self.admin_site.name  # type: ignore[attr-defined]
        return reverse(f"{site}:{opts.app_label}_{opts.model_name}_{name}", args=args)

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts  # type: ignore[attr-defined]
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        prefix = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "add/estimate/",
                wrap(require_GET(self.estimate_view)),
                name=f"{prefix}_estimate",
            ),
            path(
                "add/refresh-catalog/",
                wrap(require_POST(self.refresh_catalog_view)),
                name=f"{prefix}_refresh_catalog",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    # BabySea is called here: never inside a request-wide transaction (ATOMIC_REQUESTS).
    @transaction.non_atomic_requests
    def estimate_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        try:
            return JsonResponse(_estimate_data(request))
        except (BabySeaError, ValueError) as exc:
            text = _("No estimate: %(error)s") % {"error": exc}
            return JsonResponse({"error": str(exc), "text": text}, status=400)

    @transaction.non_atomic_requests
    def refresh_catalog_view(self, request: HttpRequest) -> HttpResponse:
        return refresh_catalog_from_admin(request, self._url("add"))

    @transaction.non_atomic_requests
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        if request.method == "POST" and not has_staff_permission(request.user, "submit"):
            raise PermissionDenied
        try:
            catalog = load_catalog()
        except CatalogUnavailableError as exc:
            messages.error(request, str(exc))
            return self._render(request, "unavailable.html", {})
        if catalog.stale:
            messages.warning(
                request,
                _("BabySea could not be reached; this catalog may be out of date (%(error)s).")
                % {"error": catalog.error},
            )
        source = self._source(request)
        model = self._chosen_model(request, catalog, source)
        if model is None:
            return self._choose(request, catalog)
        return self._fill(request, model, source)

    def _source(self, request: HttpRequest) -> Generation | None:
        """The generation to duplicate (``?from=<pk>``), when this user may see it."""
        pk = request.GET.get("from", "")
        if not pk:
            return None
        # Only a generation the change list would show: the policy's scope, then its yes.
        visible: QuerySet[Generation] = self.get_queryset(request)  # type: ignore[attr-defined]
        generation = visible.filter(pk=pk).first() if _is_uuid(pk) else None
        if generation is None or not self.has_view_permission(request, generation):  # type: ignore[attr-defined]
            messages.warning(request, _("The generation to duplicate was not found."))
            return None
        return generation

    def _chosen_model(
        self, request: HttpRequest, catalog: CatalogState, source: Generation | None
    ) -> CatalogModel | None:
        wanted = request.POST.get("model") or request.GET.get("model")
        if not wanted and source is not None:
            wanted = source.model_identifier
        if not wanted:
            return None
        model = next((m for m in catalog.models if m.model_identifier == wanted), None)
        if model is None:
            messages.warning(
                request,
                _("%(model)s is not in BabySea's model catalog; choose another model.")
                % {"model": wanted[:200]},
            )
        return model

    def _choose(self, request: HttpRequest, catalog: CatalogState) -> HttpResponse:
        groups = [
            (label, [(m, _price(m)) for m in catalog.models if m.kind == kind])
            for kind, label in (("image", _("Image models")), ("video", _("Video models")))
        ]
        return self._render(
            request,
            "choose_model.html",
            {"groups": groups, "from_pk": request.GET.get("from", "")},
        )

    def _fill(
        self, request: HttpRequest, model: CatalogModel, source: Generation | None
    ) -> HttpResponse:
        if request.method != "POST":
            initial = initial_from(source, model) if source is not None else {}
            form = GenerationRequestForm(model=model, initial=initial)
            return self._render_form(request, form, source)
        form = GenerationRequestForm(request.POST, model=model)
        if not form.is_valid():
            return self._render_form(request, form, source)
        key = form_idempotency_key(form.cleaned_data["form_token"], request.user.pk)
        existing = Generation.objects.filter(idempotency_key=key).first()
        if existing is not None:
            messages.info(request, _("This form was already submitted; here is its generation."))
            return HttpResponseRedirect(self._url("change", existing.pk))
        return self._submit(request, form, key)

    def _submit(self, request: HttpRequest, form: GenerationRequestForm, key: str) -> HttpResponse:
        model = form.model.model_identifier
        try:
            generation = submit_generation(
                model, owner=cast(Any, request.user), idempotency_key=key, **form.cleaned_request
            )
        except BabySeaError as exc:
            stored = Generation.objects.filter(idempotency_key=key).first()
            if stored is None:
                form.add_error(None, _("BabySea refused the request: %(error)s") % {"error": exc})
                return self._render_form(request, form, None)
            messages.warning(
                request,
                _(
                    "The generation is saved but BabySea could not be reached (%(error)s); "
                    "it will be sent again by babysea_poll or babysea_resend."
                )
                % {"error": exc},
            )
            return HttpResponseRedirect(self._url("change", stored.pk))
        except ValueError as exc:
            form.add_error(None, str(exc))
            return self._render_form(request, form, None)
        self._announce(request, generation)
        return HttpResponseRedirect(self._url("change", generation.pk))

    def _announce(self, request: HttpRequest, generation: Generation) -> None:
        if generation.error_code:
            messages.error(
                request,
                _("BabySea refused the generation: %(code)s %(message)s")
                % {"code": generation.error_code, "message": generation.error_message},
            )
        else:
            messages.success(request, _("Generation submitted to BabySea."))

    def _render_form(
        self, request: HttpRequest, form: GenerationRequestForm, source: Generation | None
    ) -> HttpResponse:
        budget = budget_status(request.user)
        context = {
            "form": form,
            "model": form.model,
            "price": _price(form.model),
            "source": source,
            "can_submit": has_staff_permission(request.user, "submit"),
            "estimate_url": self._url("estimate"),
            "budget_text": _budget_text(budget) if budget.remaining is not None else "",
        }
        return self._render(request, "form.html", context)

    def _render(self, request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
        opts = self.opts  # type: ignore[attr-defined]
        full = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": opts,
            "title": _("Create a generation"),
            "add_url": self._url("add"),
            "refresh_url": self._url("refresh_catalog"),
            "can_refresh_catalog": request.user.has_perm(SYNC_PERMISSION),
            **context,
        }
        return TemplateResponse(request, TEMPLATES + template, full)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
