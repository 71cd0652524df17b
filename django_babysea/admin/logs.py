"""Read-only admins of the credit ledger and the webhook deliveries (placeholder)."""

from __future__ import annotations

__all__ = ["CreditEventAdminMixin", "WebhookDeliveryAdminMixin"]


class CreditEventAdminMixin:
    pass


class WebhookDeliveryAdminMixin:
    pass
