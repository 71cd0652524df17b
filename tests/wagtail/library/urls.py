"""The Wagtail suite's URLs, plus the files of the default storage at ``/media/`` so a browser
sees the images (``static()`` serves nothing with DEBUG off, and the test storage moves)."""

from __future__ import annotations

from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpRequest
from django.urls import re_path

from tests.wagtail.urls import urlpatterns as wagtail_urlpatterns


def media(request: HttpRequest, name: str) -> FileResponse:
    storage = storages["default"]
    if ".." in name.split("/") or not storage.exists(name):
        raise Http404(name)
    return FileResponse(storage.open(name, "rb"))


urlpatterns = [re_path(r"^media/(?P<name>.+)$", media), *wagtail_urlpatterns]
