"""Which budget days and reservations ``purge`` deletes after ``BUDGET_RETENTION_DAYS``, on a
real database; the command's report; the setting's check."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from django_babysea.models import (
    BudgetDay,
    BudgetReservation,
    Generation,
    GenerationKind,
    ReservationState,
)
from django_babysea.services import purge
from django_babysea.services.budget import release, reserve, settle
from tests.checks.helpers import babysea_messages

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def user(db: None) -> Any:
    return get_user_model().objects.create_user("spender")


def day(user: Any, age: int, *states: str) -> BudgetDay:
    """A budget day ``age`` days before :data:`TODAY` with one reservation per state."""
    row = BudgetDay.objects.create(user=user, day=TODAY - timedelta(days=age))
    for state in states:
        generation = Generation.objects.create(kind=GenerationKind.IMAGE, model_identifier="m/x")
        BudgetReservation.objects.create(
            generation=generation, budget_day=row, amount=Decimal("0.5"), state=state
        )
    return row


def days() -> set[int]:
    return set(BudgetDay.objects.values_list("pk", flat=True))


def test_old_days_go_with_their_closed_reservations(user: Any) -> None:
    old = day(user, 91, ReservationState.SETTLED, ReservationState.RELEASED)
    bare = day(user, 200)
    edge = day(user, 90, ReservationState.SETTLED)  # exactly the retention: kept
    young = day(user, 3, ReservationState.SETTLED)

    planned = purge(now=NOW, dry_run=True)
    assert (planned["budget_days"], planned["budget_reservations"]) == (2, 2)
    assert days() == {old.pk, bare.pk, edge.pk, young.pk}

    done = purge(now=NOW, batch_size=1)
    assert (done["budget_days"], done["budget_reservations"]) == (2, 2)
    assert days() == {edge.pk, young.pk}
    assert set(BudgetReservation.objects.values_list("budget_day", flat=True)) == {
        edge.pk,
        young.pk,
    }
    # Nothing left to do: a second run deletes nothing.
    again = purge(now=NOW)
    assert (again["budget_days"], again["budget_reservations"]) == (0, 0)


def test_a_day_with_an_open_hold_is_kept_whole(user: Any) -> None:
    held = day(user, 400, ReservationState.RESERVED, ReservationState.SETTLED)
    counts = purge(now=NOW)
    assert (counts["budget_days"], counts["budget_reservations"]) == (0, 0)
    assert days() == {held.pk}
    assert BudgetReservation.objects.filter(budget_day=held).count() == 2

    # Once the hold is released (the generation failed at last), the day goes.
    BudgetReservation.objects.filter(state=ReservationState.RESERVED).update(
        state=ReservationState.RELEASED
    )
    counts = purge(now=NOW)
    assert (counts["budget_days"], counts["budget_reservations"]) == (1, 2)
    assert not BudgetDay.objects.exists()
    assert not BudgetReservation.objects.exists()
    assert Generation.objects.count() == 2  # only the budget rows are purged


@override_settings(BABYSEA={"BUDGET_RETENTION_DAYS": 7})
def test_follows_the_setting(user: Any) -> None:
    gone, kept = day(user, 8, ReservationState.SETTLED), day(user, 7)
    assert purge(now=NOW)["budget_days"] == 1
    assert days() == {kept.pk}
    assert gone.pk not in days()


@override_settings(TIME_ZONE="Pacific/Auckland", BABYSEA={"BUDGET_RETENTION_DAYS": 1})
def test_the_cutoff_is_a_day_in_the_sites_time_zone(user: Any) -> None:
    # 20:00 UTC on June 30 is already July 1 in Auckland: June 29 is two days old there.
    late = datetime(2026, 6, 30, 20, 0, tzinfo=ZoneInfo("UTC"))
    june_29, june_30 = day(user, 1), day(user, 0)
    assert purge(now=late)["budget_days"] == 1
    assert days() == {june_30.pk}
    assert june_29.pk not in days()


def test_the_budget_flow_end_to_end_then_purged(user: Any) -> None:
    """Rows written by the budget service itself are purged once old enough."""
    with override_settings(BABYSEA={"USER_DAILY_BUDGET": "5"}):
        made = []
        for _ in range(2):
            generation = Generation.objects.create(
                kind=GenerationKind.IMAGE, model_identifier="m/x", owner=user
            )
            with transaction.atomic():
                reserve(generation, Decimal("1"), now=NOW)
            made.append(generation)
        settle(made[0], Decimal("1"))
        release(made[1])
    [row] = BudgetDay.objects.all()
    assert row.day == TODAY
    assert purge(now=NOW + timedelta(days=90))["budget_days"] == 0
    counts = purge(now=NOW + timedelta(days=91))
    assert (counts["budget_days"], counts["budget_reservations"]) == (1, 2)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("babysea_purge", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_reports_budget_rows(user: Any) -> None:
    # The command purges as of now: a day 91 days before today.
    day(user, 0, ReservationState.SETTLED)
    BudgetDay.objects.update(day=timezone.localdate() - timedelta(days=91))
    lines = run("--dry-run").splitlines()
    assert lines[1] == "Would delete 1 budget days and 1 budget reservations (older than 90 days)."
    assert BudgetDay.objects.count() == 1
    lines = run().splitlines()
    assert lines[1] == "Deleted 1 budget days and 1 budget reservations (older than 90 days)."
    assert not BudgetDay.objects.exists()
    # Nothing about budgets when the site has no budget and no budget rows.
    assert len(run().splitlines()) == 1


@pytest.mark.parametrize("value", [0, -3, 1.5, "90", None, True, float("nan"), float("inf")])
def test_the_check_refuses_a_bad_retention(value: object) -> None:
    messages = babysea_messages(BUDGET_RETENTION_DAYS=value)
    assert list(messages) == ["django_babysea.E008"]
    assert f"BABYSEA['BUDGET_RETENTION_DAYS'] is {value!r}" in messages["django_babysea.E008"]
    assert "a whole number of days, at least 1" in messages["django_babysea.E008"]


def test_the_check_accepts_the_default_and_whole_days() -> None:
    assert babysea_messages() == {}
    assert babysea_messages(BUDGET_RETENTION_DAYS=1) == {}
