from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("babysea/", include("django_babysea.urls")),
    path("live-test/", include("tests.live_status.pages")),
]
