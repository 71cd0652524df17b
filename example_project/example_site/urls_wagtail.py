"""URLs of the Wagtail example site: the Wagtail admin at ``/cms/``, Django's admin, BabySea's
webhook and API, the gallery at ``/gallery/``, and Wagtail's pages at ``/``."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("babysea/", include("django_babysea.urls")),
    path("cms/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("gallery/", include("gallery.urls")),
]
# Output copies and library images, served by runserver while DEBUG is on.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
urlpatterns += [path("", include(wagtail_urls))]
