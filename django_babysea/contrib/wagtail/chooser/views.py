"""The Generate tab's views, under the Wagtail admin (which requires admin access).

* ``generate/`` GET: the tab's content (403 when the editor may not generate: no tab).
  POST: validate, then :func:`~..library.submit_to_library` with an idempotency key from the
  form's token; the answer is the progress block the script polls, or the form with its
  errors (400), the refusal (403) or the budget's (429). Nothing waits for the provider: the
  generation finishes in the background and its image reaches the library on its own.
* ``estimate/``: BabySea's estimate of the fields in the query string.
* ``status/<id>/``: what the progress block polls (:func:`.status.status_data`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_GET

from django_babysea.admin.forms import form_idempotency_key
from django_babysea.client import BabySeaError
from django_babysea.contrib.wagtail.library import submit_to_library
from django_babysea.contrib.wagtail.permissions import can_generate
from django_babysea.models import Generation
from django_babysea.services import BudgetExceededError, CatalogUnavailableError, estimate

from .panel import (
    TEMPLATES,
    Panel,
    build_panel,
    preserved_query,
    render_panel,
    render_unavailable,
)
from .status import generations_for, status_data

__all__ = ["GenerateView", "estimate_view", "status_view"]

PRICED = ("generation_output_number", "generation_duration", "generation_resolution")


#: Marks the tab's own answers, so the script never puts a proxy's or a server's error page
#: into the modal.
FRAGMENT_HEADER = "X-BabySea-Fragment"


def _html(content: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(content, status=status, content_type="text/html; charset=utf-8")
    response[FRAGMENT_HEADER] = "1"
    return response


# BabySea may be called (a stale catalog, the create call): never inside ATOMIC_REQUESTS.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class GenerateView(View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not can_generate(request.user):
            # GET: no tab at all. POST: the permission went away while the tab was open.
            message = _("You may not generate images.") if request.method == "POST" else ""
            return _html(render_unavailable(request, message) if message else "", status=403)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            panel = build_panel(request)
        except CatalogUnavailableError as exc:
            return _html(render_unavailable(request, str(exc)))
        return _html(render_panel(request, panel))

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            panel = build_panel(request, request.POST)
        except CatalogUnavailableError as exc:
            return _html(render_unavailable(request, str(exc)), status=503)
        if not (panel.library.is_valid() and panel.fields.is_valid()):
            return _html(render_panel(request, panel), status=400)
        return self._submit(request, panel)

    def _refuse(
        self, request: HttpRequest, panel: Panel, message: str, status: int
    ) -> HttpResponse:
        panel.errors.append(message)
        return _html(render_panel(request, panel), status=status)

    def _submit(self, request: HttpRequest, panel: Panel) -> HttpResponse:
        place = panel.library.cleaned_data
        key = form_idempotency_key(panel.fields.cleaned_data["form_token"], request.user.pk)
        try:
            submission = submit_to_library(
                request.user,
                panel.model.model_identifier,
                panel.fields.cleaned_request,
                collection=place["collection"],
                title=place["title"],
                description=place["description"],
                tags=tuple(place["tags"]),
                idempotency_key=key,
            )
        except PermissionDenied:
            message = _("You may not add images to this collection.")
            return self._refuse(request, panel, message, 403)
        except BudgetExceededError as exc:
            return self._refuse(request, panel, str(exc), 429)
        except ValidationError as exc:
            return self._refuse(request, panel, " ".join(exc.messages), 400)
        except BabySeaError as exc:
            stored = Generation.objects.filter(idempotency_key=key).first()
            if stored is None:
                message = _("BabySea refused the request: %(error)s") % {"error": exc}
                return self._refuse(request, panel, message, 502)
            return _progress(request, stored, 202)  # saved: it is sent again by the poller
        except CatalogUnavailableError as exc:
            return self._refuse(request, panel, str(exc), 503)
        except ValueError as exc:  # no price to reserve against the budget
            return self._refuse(request, panel, str(exc), 400)
        return _progress(request, submission.generation, 202)


def _progress(request: HttpRequest, generation: Generation, status: int) -> HttpResponse:
    context = {
        "generation": generation,
        "prompt": (generation.request or {}).get("generation_prompt", ""),
        "status_url": reverse("babysea_wagtail_chooser:status", args=(generation.pk,))
        + preserved_query(request.GET),
        "initial": status_data(generation, bool(request.GET.get("select_format"))),
    }
    return _html(render_to_string(TEMPLATES + "progress.html", context, request), status=status)


@require_GET
@transaction.non_atomic_requests
def estimate_view(request: HttpRequest) -> HttpResponse:
    """``?model=<id>&generation_duration=…`` -> ``{"text": …}`` (400 with the reason)."""
    if not can_generate(request.user):
        return JsonResponse({"error": "forbidden", "text": ""}, status=403)
    query = request.GET

    def number(name: str) -> int | None:
        value = query.get(name, "")
        return int(value) if value.isdigit() and len(value) < 6 else None

    try:
        result = estimate(
            query.get("model", "")[:200],
            count=number("generation_output_number"),
            resolution=query.get("generation_resolution") or None,
        )
    except (BabySeaError, ValueError) as exc:
        text = _("No estimate: %(error)s") % {"error": exc}
        return JsonResponse({"error": str(exc), "text": text}, status=400)
    text = _("Estimated cost: %(cost)s credits.") % {"cost": f"{result.cost_total_consumed:.3f}"}
    if result.credit_balance_can_afford is False:
        text += " " + _("The account's balance does not cover it.")
    return JsonResponse(
        {
            "cost": result.cost_total_consumed,
            "text": text,
            "can_afford": result.credit_balance_can_afford,
        }
    )


@require_GET
def status_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    generation = get_object_or_404(generations_for(request.user), pk=pk)
    response = JsonResponse(status_data(generation, bool(request.GET.get("select_format"))))
    response["Cache-Control"] = "no-store"
    return response
