"""The example site's pages. They render generations with the app's template tags and talk to
BabySea only through the app: the gallery reads the database, the generate page calls the REST
API from the browser, and the media fragment renders one generation the way the gallery does."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.generic import ListView, TemplateView

from django_babysea.models import Generation, GenerationStatus
from django_babysea.policy import get_policy
from django_babysea.services.media import with_media

#: What the gallery shows: finished images and videos, and those still on their way (which
#: live.js swaps in when stored); failed and canceled ones have nothing to show.
SHOWN = (
    GenerationStatus.CREATED,
    GenerationStatus.PENDING,
    GenerationStatus.PROCESSING,
    GenerationStatus.SUCCEEDED,
)
#: ``sizes`` of a gallery card: one column on phones, two on tablets, three or four on screens.
CARD_SIZES = "(max-width: 640px) 100vw, (max-width: 1024px) 50vw, (max-width: 1400px) 33vw, 25vw"
RECENT = 6


def gallery_queryset() -> QuerySet[Generation]:
    shown = Generation.objects.filter(status__in=SHOWN, removed=False)
    return with_media(shown.order_by("-created_at"))


class GalleryView(ListView):  # type: ignore[type-arg]
    template_name = "gallery/gallery.html"
    context_object_name = "generations"
    paginate_by = 12

    def get_queryset(self) -> QuerySet[Generation]:
        return gallery_queryset()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "sizes": CARD_SIZES}


class GenerateView(LoginRequiredMixin, TemplateView):
    """The form is filled and sent by generate.js through the REST API; the page itself shows
    only the user's most recent generations."""

    template_name = "gallery/generate.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        own = Generation.objects.filter(owner=self.request.user.pk, removed=False)
        recent = with_media(own.order_by("-created_at"))[:RECENT]
        return {**super().get_context_data(**kwargs), "recent": recent, "sizes": CARD_SIZES}


@never_cache
@login_required
def generation_media(request: HttpRequest, pk: UUID) -> HttpResponse:
    """One generation as a gallery card, for the generate page to insert after a submit: its
    placeholder carries the signed ``data-babysea-live`` token live.js polls with."""
    visible = get_policy().scope_queryset(request.user, Generation.objects.all())
    generation = with_media(visible.filter(pk=pk)).first()
    if generation is None:
        raise Http404("No such generation.")
    context = {"generation": generation, "sizes": CARD_SIZES}
    return render(request, "gallery/card.html", context)
