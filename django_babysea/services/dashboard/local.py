"""Local figures of the dashboard: a fixed number of grouped queries over indexed columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from django.db.models import Count, Min, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from django_babysea.models import (
    CreditEvent,
    CreditEventKind,
    Generation,
    GenerationOutput,
    GenerationStatus,
    OutputState,
)

__all__ = ["BACKLOG_STATES", "DAYS", "DaySpend", "LocalFigures", "local_figures"]

#: Days covered by the spend and status figures.
DAYS: Final = 30
RECENT_FAILURES: Final = 10
TOP_MODELS: Final = 10
#: Output states still waiting for a copy into the site's storage.
BACKLOG_STATES: Final = (OutputState.PENDING, OutputState.FAILED, OutputState.COPYING)


@dataclass(frozen=True)
class DaySpend:
    day: date
    charged: Decimal
    refunded: Decimal
    charges: int


@dataclass(frozen=True)
class ModelSpend:
    model: str
    charged: Decimal
    charges: int


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class ModelActivity:
    model: str
    total: int
    failed: int

    @property
    def failure_rate(self) -> float:
        return self.failed / self.total if self.total else 0.0


@dataclass(frozen=True)
class Backlog:
    state: str
    label: str
    count: int
    soonest_expiry: datetime | None


@dataclass(frozen=True)
class ErrorCount:
    code: str
    count: int


@dataclass(frozen=True)
class Failure:
    pk: Any
    model: str
    error_code: str
    error_message: str
    created_at: datetime


@dataclass(frozen=True)
class LocalFigures:
    since: datetime
    days: list[DaySpend]
    by_model: list[ModelSpend]
    by_status: list[StatusCount]
    activity: list[ModelActivity]
    backlog: list[Backlog]
    error_codes: list[ErrorCount]
    recent_failures: list[Failure]

    @property
    def charged(self) -> Decimal:
        return sum((d.charged for d in self.days), Decimal(0))

    @property
    def refunded(self) -> Decimal:
        return sum((d.refunded for d in self.days), Decimal(0))

    @property
    def generations(self) -> int:
        return sum(s.count for s in self.by_status)

    @property
    def backlog_total(self) -> int:
        return sum(b.count for b in self.backlog)

    @property
    def soonest_expiry(self) -> datetime | None:
        expiries = [b.soonest_expiry for b in self.backlog if b.soonest_expiry is not None]
        return min(expiries, default=None)


def local_figures(now: datetime | None = None, days: int = DAYS) -> LocalFigures:
    """The dashboard's figures from the database: six queries, whatever the number of rows."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    since = timezone.make_aware(
        datetime.combine(today - timedelta(days=days - 1), datetime.min.time())
    )
    recent = Generation.objects.filter(created_at__gte=since)
    by_status, activity = _status_and_activity(recent)
    return LocalFigures(
        since=since,
        days=_spend_per_day(since, today, days),
        by_model=_spend_by_model(since),
        by_status=by_status,
        activity=activity,
        backlog=_backlog(),
        error_codes=[
            ErrorCount(row["error_code"], row["count"])
            for row in recent.filter(status=GenerationStatus.FAILED)
            .values("error_code")
            .annotate(count=Count("pk"))
            .order_by("-count", "error_code")
        ],
        recent_failures=[
            Failure(g.pk, g.model_identifier, g.error_code, g.error_message, g.created_at)
            for g in Generation.objects.filter(status=GenerationStatus.FAILED)
            .only("pk", "model_identifier", "error_code", "error_message", "created_at")
            .order_by("-created_at")[:RECENT_FAILURES]
        ],
    )


def _spend_per_day(since: datetime, today: date, days: int) -> list[DaySpend]:
    rows = (
        CreditEvent.objects.filter(
            kind__in=(CreditEventKind.CHARGE, CreditEventKind.REFUND), created_at__gte=since
        )
        .annotate(day=TruncDate("created_at"))
        .values("day", "kind")
        .annotate(total=Sum("amount"), count=Count("pk"))
    )
    charged: dict[date, Decimal] = {}
    refunded: dict[date, Decimal] = {}
    charges: dict[date, int] = {}
    for row in rows:
        if row["kind"] == CreditEventKind.CHARGE:
            charged[row["day"]] = row["total"]
            charges[row["day"]] = row["count"]
        else:
            refunded[row["day"]] = row["total"]
    # Every day appears, with zeros where nothing was spent, so the chart keeps its time axis.
    result = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        result.append(
            DaySpend(
                day,
                charged.get(day, Decimal(0)),
                refunded.get(day, Decimal(0)),
                charges.get(day, 0),
            )
        )
    return result


def _spend_by_model(since: datetime) -> list[ModelSpend]:
    rows = (
        CreditEvent.objects.filter(kind=CreditEventKind.CHARGE, created_at__gte=since)
        .values("generation__model_identifier")
        .annotate(total=Sum("amount"), count=Count("pk"))
        .order_by("-total", "generation__model_identifier")[:TOP_MODELS]
    )
    return [
        ModelSpend(row["generation__model_identifier"] or "", row["total"], row["count"])
        for row in rows
    ]


def _status_and_activity(
    recent: QuerySet[Generation],
) -> tuple[list[StatusCount], list[ModelActivity]]:
    """Generations by status and by model from one grouped scan of the period."""
    by_status: dict[str, int] = {}
    totals: dict[str, int] = {}
    failed: dict[str, int] = {}
    for row in recent.values("model_identifier", "status").annotate(count=Count("pk")).order_by():
        model, status, count = row["model_identifier"], row["status"], row["count"]
        by_status[status] = by_status.get(status, 0) + count
        totals[model] = totals.get(model, 0) + count
        if status == GenerationStatus.FAILED:
            failed[model] = failed.get(model, 0) + count
    statuses = [
        StatusCount(status.value, str(status.label), by_status.get(status.value, 0))
        for status in GenerationStatus
    ]
    busiest = sorted(totals, key=lambda model: (-totals[model], model))[:TOP_MODELS]
    activity = [ModelActivity(model, totals[model], failed.get(model, 0)) for model in busiest]
    return statuses, activity


def _backlog() -> list[Backlog]:
    rows = {
        row["state"]: row
        for row in GenerationOutput.objects.filter(state__in=BACKLOG_STATES)
        .values("state")
        .annotate(count=Count("pk"), soonest=Min("remote_expires_at"))
        .order_by()
    }
    return [
        Backlog(
            state.value,
            str(state.label),
            rows[state.value]["count"] if state.value in rows else 0,
            rows[state.value]["soonest"] if state.value in rows else None,
        )
        for state in BACKLOG_STATES
    ]
