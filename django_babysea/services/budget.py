"""The per-user daily budget (``BABYSEA["USER_DAILY_BUDGET"]``), enforced in the database.

A submit with an owner reserves the generation's cost on the owner's :class:`BudgetDay` of
today (the site's ``TIME_ZONE``), under a row lock, in the transaction that stores the
generation: concurrent submits are serialized by the database, so together they never pass the
limit. The charge moves the amount from ``reserved`` to ``used``; a refund, a failure, a local
cancel or a rejected send releases it. Each generation holds one :class:`BudgetReservation`
whose state makes settling and releasing idempotent (webhooks arrive more than once).

The cost is computed from the cached catalog's pricing when it can be (contract section 6.5),
else asked of BabySea's estimate, outside any transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from django_babysea.client import BabySeaError
from django_babysea.conf import babysea_settings
from django_babysea.models import (
    BudgetDay,
    BudgetReservation,
    CatalogModel,
    Generation,
    ReservationState,
)

from .connection import get_client

__all__ = [
    "BudgetExceededError",
    "BudgetStatus",
    "budget_status",
    "cost_of",
    "release",
    "reserve",
    "settle",
]

THOUSANDTH: Final = Decimal("0.001")
ZERO: Final = Decimal("0.000")


def _round3(value: Decimal) -> Decimal:
    return value.quantize(THOUSANDTH, rounding=ROUND_HALF_UP)


# -- the day ------------------------------------------------------------------------------------


def _today(now: datetime | None = None) -> date:
    now = now or timezone.now()
    if timezone.is_aware(now):
        return now.astimezone(timezone.get_default_timezone()).date()
    return now.date()


def _resets_at(day: date) -> datetime:
    """Midnight at the start of the day after ``day`` in the site's ``TIME_ZONE``."""
    midnight = datetime.combine(day + timedelta(days=1), time.min)
    if settings.USE_TZ:
        return timezone.make_aware(midnight, timezone.get_default_timezone())
    return midnight


# -- status and refusal -------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetStatus:
    """One user's budget today. ``limit`` and ``remaining`` are None when there is no limit."""

    limit: Decimal | None
    used: Decimal
    reserved: Decimal
    remaining: Decimal | None
    resets_at: datetime


class BudgetExceededError(ValueError):
    """The generation would take the user past ``USER_DAILY_BUDGET`` today."""

    def __init__(
        self,
        limit: Decimal,
        used: Decimal,
        reserved: Decimal,
        requested: Decimal,
        resets_at: datetime,
    ) -> None:
        remaining = max(limit - used - reserved, ZERO)
        super().__init__(
            f"Daily budget exceeded: this generation costs {requested} credits but only "
            f"{remaining} of the {limit} credits a day remain ({used} used, {reserved} "
            f"reserved by generations in progress). The budget resets at "
            f"{resets_at.isoformat()}."
        )
        self.limit = limit
        self.used = used
        self.reserved = reserved
        self.requested = requested
        self.resets_at = resets_at

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.limit, self.used, self.reserved, self.requested, self.resets_at),
        )


def budget_status(user: Any, now: datetime | None = None) -> BudgetStatus:
    """``user``'s budget for today: limit, used, reserved, remaining and when it resets."""
    day = _today(now)
    limit = babysea_settings.USER_DAILY_BUDGET
    row = None
    if getattr(user, "pk", None) is not None:
        row = BudgetDay.objects.filter(user_id=user.pk, day=day).first()
    used = row.used if row is not None else ZERO
    reserved = row.reserved if row is not None else ZERO
    remaining = None if limit is None else max(limit - used - reserved, ZERO)
    return BudgetStatus(limit, used, reserved, remaining, _resets_at(day))


# -- the amount ---------------------------------------------------------------------------------


def _whole(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _price(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return price if price.is_finite() and price >= 0 else None


def _catalog_cost(model: CatalogModel, request: Mapping[str, Any]) -> Decimal | None:
    """Contract section 6.5 from the cached pricing; None when it cannot be done locally."""
    count = min(max(_whole(request.get("generation_output_number")) or 1, 1), 100)
    pricing, schema = model.pricing, model.schema or {}
    if isinstance(pricing, dict):
        resolutions = schema.get("generation_resolution") or [None]
        key = str(request.get("generation_resolution") or resolutions[0] or "")
        if model.kind == "video" and schema.get("generation_generate_audio"):
            key += "_noaudio" if request.get("generation_generate_audio") is False else "_audio"
        rate = _price(pricing.get(key))
    else:
        rate = _price(pricing)
    if rate is None:
        return None
    if model.kind == "video":
        duration = _whole(request.get("generation_duration"))
        if duration is None:
            return None
        rate = _round3(rate * duration)
    return _round3(_round3(rate) * count)


def cost_of(model_identifier: str, fields: Mapping[str, Any]) -> Decimal:
    """What a generation of ``model_identifier`` with ``fields`` costs, in credits.

    From the cached catalog when its pricing covers the request (no remote call), else from
    BabySea's estimate: call it outside a transaction. Raises ``ValueError`` when neither
    can tell.
    """
    request = {key: value for key, value in fields.items() if value is not None}
    model = CatalogModel.objects.filter(model_identifier=str(model_identifier).strip()).first()
    if model is not None:
        local = _catalog_cost(model, request)
        if local is not None:
            return local
    try:
        result = get_client().estimate(
            str(model_identifier).strip(),
            count=_whole(request.get("generation_output_number")),
            duration=_whole(request.get("generation_duration")),
            resolution=request.get("generation_resolution"),
            audio=request.get("generation_generate_audio"),
        )
    except BabySeaError as exc:
        raise ValueError(
            f"The cost of this generation could not be estimated, so the daily budget "
            f"cannot be checked: {exc}"
        ) from None
    cost = _price(result.cost_total_consumed)
    if cost is None:
        raise ValueError("BabySea's estimate of this generation has no usable cost.")
    return _round3(cost)


def budgeted_cost(owner: Any, model_identifier: str, fields: Mapping[str, Any]) -> Decimal | None:
    """:func:`cost_of` when ``owner``'s submissions are held to ``USER_DAILY_BUDGET``, else
    None (nothing to reserve). It may ask BabySea: call it before any transaction."""
    if owner is None or babysea_settings.USER_DAILY_BUDGET is None:
        return None
    return cost_of(model_identifier, fields)


# -- reserve, settle, release -------------------------------------------------------------------


def _locked_day(user_pk: Any, day: date) -> BudgetDay:
    try:
        # Its own savepoint: a concurrent first submit of the day may insert the row first.
        with transaction.atomic():
            BudgetDay.objects.get_or_create(user_id=user_pk, day=day)
    except IntegrityError:
        pass
    return BudgetDay.objects.select_for_update().get(user_id=user_pk, day=day)


def reserve(generation: Generation, amount: Decimal, now: datetime | None = None) -> None:
    """Hold ``amount`` of the owner's budget of today for ``generation``, or raise
    :class:`BudgetExceededError`. Call it inside the transaction that stores the generation,
    so a refusal leaves nothing written."""
    limit = babysea_settings.USER_DAILY_BUDGET
    if limit is None or generation.owner_id is None:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reserve() must run inside the transaction that stores the generation.")
    day = _today(now)
    row = _locked_day(generation.owner_id, day)
    if row.used + row.reserved + amount > limit:
        raise BudgetExceededError(limit, row.used, row.reserved, amount, _resets_at(day))
    BudgetDay.objects.filter(pk=row.pk).update(reserved=F("reserved") + amount)
    BudgetReservation.objects.create(generation=generation, budget_day=row, amount=amount)
    # The ledger's reserve and charge use this amount; no second estimate is made at send.
    Generation.objects.filter(pk=generation.pk).update(cost_reserved=amount)
    generation.cost_reserved = amount


def _locked_reservation(generation: Generation) -> BudgetReservation | None:
    return BudgetReservation.objects.select_for_update().filter(generation=generation).first()


def settle(generation: Generation, charged: Decimal) -> None:
    """The generation was charged ``charged`` credits: its hold becomes use. Idempotent."""
    with transaction.atomic():
        held = _locked_reservation(generation)
        if held is None or held.state == ReservationState.SETTLED:
            return
        # A hold released early (a local cancel while BabySea accepted the create) still
        # counts the charge as used.
        freed = held.amount if held.state == ReservationState.RESERVED else ZERO
        BudgetDay.objects.filter(pk=held.budget_day_id).update(
            reserved=Greatest(F("reserved") - freed, ZERO), used=F("used") + charged
        )
        held.state, held.charged = ReservationState.SETTLED, charged
        held.save(update_fields=["state", "charged", "updated_at"])


def release(generation: Generation) -> None:
    """Give the generation's hold back (refund, failure, cancel, rejected send). Idempotent."""
    with transaction.atomic():
        held = _locked_reservation(generation)
        if held is None or held.state != ReservationState.RESERVED:
            return
        BudgetDay.objects.filter(pk=held.budget_day_id).update(
            reserved=Greatest(F("reserved") - held.amount, ZERO)
        )
        held.state = ReservationState.RELEASED
        held.save(update_fields=["state", "updated_at"])
