from __future__ import annotations

from django.apps import AppConfig


class BabySeaConfig(AppConfig):
    name = "django_babysea"
    verbose_name = "BabySea"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
