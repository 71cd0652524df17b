"""The Wagtail suite's URLs, plus the media files the live server must serve for a browser
(``{% image %}`` renditions; ``static()`` would serve nothing with DEBUG off)."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from tests.wagtail.urls import urlpatterns as wagtail_urlpatterns

urlpatterns = [
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    *wagtail_urlpatterns,
]
