"""The Django admin for editors: mixins, and default registrations built from them.

Every admin class is a mixin plus ``admin.ModelAdmin``. A site on a themed admin (unfold,
jazzmin) unregisters the defaults and registers the same mixins on its theme's base class::

    from django.contrib import admin
    from unfold.admin import ModelAdmin
    from django_babysea.admin import GenerationAdminMixin
    from django_babysea.models import Generation

    admin.site.unregister(Generation)

    @admin.register(Generation)
    class GenerationAdmin(GenerationAdminMixin, ModelAdmin):
        pass
"""

from __future__ import annotations

from django.contrib import admin

from django_babysea.models import CatalogModel, CreditEvent, Dashboard, Generation, WebhookDelivery

from .catalog import CatalogModelAdminMixin
from .dashboard import DashboardAdminMixin
from .generation import GenerationAdminMixin
from .logs import CreditEventAdminMixin, WebhookDeliveryAdminMixin

__all__ = [
    "CatalogModelAdmin",
    "CatalogModelAdminMixin",
    "CreditEventAdmin",
    "CreditEventAdminMixin",
    "DashboardAdmin",
    "DashboardAdminMixin",
    "GenerationAdmin",
    "GenerationAdminMixin",
    "WebhookDeliveryAdmin",
    "WebhookDeliveryAdminMixin",
]


@admin.register(Generation)
class GenerationAdmin(GenerationAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


@admin.register(CreditEvent)
class CreditEventAdmin(CreditEventAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(WebhookDeliveryAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


@admin.register(CatalogModel)
class CatalogModelAdmin(CatalogModelAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


@admin.register(Dashboard)
class DashboardAdmin(DashboardAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass
