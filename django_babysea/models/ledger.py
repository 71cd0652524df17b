"""The append-only credit ledger."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .generations import Generation

__all__ = ["AppendOnlyError", "CreditEvent", "CreditEventKind"]


class CreditEventKind(models.TextChoices):
    RESERVE = "reserve", _("Reserve")
    CHARGE = "charge", _("Charge")
    REFUND = "refund", _("Refund")
    LOW_BALANCE = "low_balance", _("Low-balance alert")


class AppendOnlyError(Exception):
    """A ledger row was saved a second time; ledger rows are never edited."""


class CreditEvent(models.Model):
    """One ledger entry. Append-only: :meth:`save` refuses to update an existing row.

    Old rows are removed in batches by ``purge`` with queryset deletes, which is the only way
    ledger rows go away.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=CreditEventKind.choices)
    amount = models.DecimalField(_("credits"), max_digits=12, decimal_places=3)
    balance = models.DecimalField(
        _("balance after"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    # PROTECT: the ledger is the money trail. Deleting a generation must not orphan its
    # entries (SET_NULL would also lift them out of the once-per-generation constraint, so a
    # generation re-imported by a sync could be counted twice). ``purge`` deletes ledger rows
    # before the generations they point at.
    generation = models.ForeignKey(
        Generation,
        verbose_name=_("generation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_events",
    )
    source = models.CharField(
        _("source"),
        max_length=100,
        help_text=_('"create", "poll", "sync" or "webhook:<delivery id>".'),
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    dedupe_key = models.CharField(
        _("dedupe key"),
        max_length=100,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Unique key of an alert, e.g. low_balance:<delivery id>."),
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("credit event")
        verbose_name_plural = _("credit events")
        ordering = ("-created_at", "-id")
        constraints = (
            # A duplicate event can never count twice: one reserve, one charge and one refund
            # per generation at most (charge and refund excluding each other is a service rule).
            models.UniqueConstraint(
                fields=["generation", "kind"],
                condition=Q(generation__isnull=False),
                name="babysea_credit_once_per_generation",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=CreditEventKind.values), name="babysea_credit_kind_valid"
            ),
        )
        indexes = (models.Index(fields=["kind", "-created_at"], name="babysea_credit_kind_idx"),)

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Credit events are append-only; record a new event instead.")
        super().save(*args, **kwargs)
