"""Verified webhook deliveries."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["DeliveryState", "WebhookDelivery"]


class DeliveryState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    DEFERRED = "deferred", _("Deferred (waiting for the generation id)")
    FAILED = "failed", _("Failed")
    IGNORED = "ignored", _("Ignored (unknown event type)")
    INVALID = "invalid", _("Invalid (authentic, but can never be applied)")


class WebhookDelivery(models.Model):
    """A verified webhook delivery, stored before it is processed so a failure stays visible
    and the delivery can be replayed."""

    delivery_id = models.UUIDField(_("delivery id"), unique=True, editable=False)
    event_type = models.CharField(_("event"), max_length=100, db_index=True)
    generation_id = models.UUIDField(
        _("BabySea generation id"), null=True, blank=True, db_index=True
    )
    body = models.TextField(_("raw body"), help_text=_("Exactly as received and verified."))
    signature_timestamp = models.DateTimeField(
        _("signed at"), null=True, blank=True, help_text=_("t= of the latest attempt.")
    )
    received_at = models.DateTimeField(_("first received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    attempts = models.PositiveIntegerField(
        _("attempts"), default=1, help_text=_("How many times BabySea delivered it.")
    )
    state = models.CharField(
        _("state"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.RECEIVED
    )
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        permissions = (("replay_webhookdelivery", _("Can process webhook deliveries again")),)
        ordering = ("-received_at", "-id")
        indexes = (
            models.Index(fields=["-received_at"], name="babysea_delivery_received_idx"),
            models.Index(fields=["state", "received_at"], name="babysea_delivery_state_idx"),
        )

    def __str__(self) -> str:
        return f"{self.event_type} {str(self.delivery_id)[:8]} ({self.state})"
