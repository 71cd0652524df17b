"""The gallery, the generate page, the fragment it inserts, and signing in and out."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("", views.GalleryView.as_view(), name="gallery"),
    path("generate/", views.GenerateView.as_view(), name="generate"),
    path("generations/<uuid:pk>/media/", views.generation_media, name="generation-media"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
