from __future__ import annotations

from django.apps import AppConfig


class BabySeaWagtailConfig(AppConfig):
    name = "django_babysea.contrib.wagtail"
    label = "babysea_wagtail"
    verbose_name = "BabySea for Wagtail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # registers the system checks

        if checks.missing_apps():
            return  # E014 says what is missing; the receivers would not import
        from .library import receivers  # noqa: F401  (imports outputs as they are stored)
