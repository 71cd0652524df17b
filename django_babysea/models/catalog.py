"""BabySea's model catalog, cached in the database, and the dashboard's admin entry.

The catalog (``GET /v1/library/models``, with ``GET /v1/health/inference/models``) lives in a
table rather than the cache framework: every process (web, worker, command) sees the same copy,
it survives restarts, the admin groups and filters it with ordinary queries, and the create form
and the API validate against the very same rows.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .generations import Generation, GenerationKind

__all__ = ["CatalogModel", "Dashboard"]


class CatalogModel(models.Model):
    """One entry of BabySea's model catalog, as last fetched."""

    model_identifier = models.CharField(_("model"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=GenerationKind.choices)
    pricing = models.JSONField(
        _("pricing"),
        null=True,
        blank=True,
        help_text=_("Credits per output or per second, or a per-second map by resolution/audio."),
    )
    providers = models.JSONField(
        _("providers"), default=list, blank=True, help_text=_("Default failover order.")
    )
    schema = models.JSONField(_("accepted fields"), default=dict, blank=True)
    specific_schema = models.JSONField(_("model-specific fields"), default=list, blank=True)
    health = models.CharField(
        _("health"),
        max_length=20,
        blank=True,
        help_text=_("healthy, degraded or unavailable at the last refresh; empty when unknown."),
    )
    available = models.BooleanField(
        _("in the catalog"),
        default=True,
        help_text=_("False once BabySea's catalog no longer lists it."),
    )
    fetched_at = models.DateTimeField(_("fetched"))

    class Meta:
        verbose_name = _("catalog model")
        verbose_name_plural = _("catalog models")
        ordering = ("kind", "model_identifier")

    def __str__(self) -> str:
        return self.model_identifier


class Dashboard(Generation):
    """The admin's BabySea dashboard: a proxy whose change list is the dashboard page."""

    class Meta:
        proxy = True
        verbose_name = _("BabySea dashboard")
        verbose_name_plural = _("BabySea dashboard")
        default_permissions = ("view",)
