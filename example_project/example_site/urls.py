from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("babysea/", include("django_babysea.urls")),
    path("", include("gallery.urls")),
]
# Output copies in the file-system storage, served by runserver while DEBUG is on (a no-op
# otherwise: production serves MEDIA_ROOT from the web server or uses S3).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
