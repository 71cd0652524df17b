"""The per-user daily budget (``BABYSEA["USER_DAILY_BUDGET"]``), held in the database.

- :class:`BudgetDay`: what one user has spent (``used``) and holds (``reserved``) on one day.
- :class:`BudgetReservation`: what one generation holds against one :class:`BudgetDay`, and
  whether that hold is still open, was settled by a charge or was released.

The rules (reserve under a row lock, settle, release, idempotently) are in
:mod:`django_babysea.services.budget`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .generations import Generation

__all__ = ["BudgetDay", "BudgetReservation", "ReservationState"]


class BudgetDay(models.Model):
    """One user's spending on one day (in the site's ``TIME_ZONE``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="babysea_budget_days",
    )
    day = models.DateField(_("day"))
    used = models.DecimalField(_("credits used"), max_digits=12, decimal_places=3, default=0)
    reserved = models.DecimalField(
        _("credits reserved"), max_digits=12, decimal_places=3, default=0
    )

    class Meta:
        verbose_name = _("budget day")
        verbose_name_plural = _("budget days")
        ordering = ("-day",)
        constraints = (
            models.UniqueConstraint(fields=["user", "day"], name="babysea_budget_once_per_day"),
            models.CheckConstraint(
                condition=Q(used__gte=0) & Q(reserved__gte=0), name="babysea_budget_not_negative"
            ),
        )

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.used} used, {self.reserved} reserved"


class ReservationState(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    SETTLED = "settled", _("Settled (charged)")
    RELEASED = "released", _("Released")


class BudgetReservation(models.Model):
    """The amount one generation holds against the day it was submitted on."""

    generation = models.OneToOneField(
        Generation,
        verbose_name=_("generation"),
        on_delete=models.CASCADE,
        related_name="budget_reservation",
    )
    budget_day = models.ForeignKey(
        BudgetDay,
        verbose_name=_("budget day"),
        on_delete=models.CASCADE,
        related_name="reservations",
    )
    amount = models.DecimalField(_("credits reserved"), max_digits=12, decimal_places=3)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=ReservationState.choices,
        default=ReservationState.RESERVED,
    )
    charged = models.DecimalField(
        _("credits charged"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("budget reservation")
        verbose_name_plural = _("budget reservations")
        ordering = ("-created_at",)
        constraints = (
            models.CheckConstraint(
                condition=Q(state__in=ReservationState.values), name="babysea_budget_state_valid"
            ),
        )

    def __str__(self) -> str:
        return f"{self.generation_id}: {self.amount} ({self.state})"
