"""A page of generations with live status, served under a strict Content Security Policy:
only scripts and styles with the page's nonce run (no inline script, no eval)."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path, re_path
from django.views.static import serve

from django_babysea.models import Generation

TEMPLATE = engines["django"].from_string((Path(__file__).parent / "page.html").read_text())


def live_page(request: HttpRequest) -> HttpResponse:
    ids = [part for part in request.GET.get("ids", "").split(",") if part]
    generations = Generation.objects.filter(pk__in=ids).order_by("created_at")
    nonce = secrets.token_urlsafe(16)
    html = TEMPLATE.render({"generations": generations, "csp_nonce": nonce}, request)
    response = HttpResponse(html)
    response["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "img-src 'self' data:"
    )
    return response


def media(request: HttpRequest, name: str) -> HttpResponse:
    return serve(request, name, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    path("page/", live_page, name="live-test-page"),
    re_path(r"^media/(?P<name>.+)$", media),
]
