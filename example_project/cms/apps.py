from __future__ import annotations

from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = "Example pages"
    default_auto_field = "django.db.models.BigAutoField"
