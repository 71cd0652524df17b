"""USER_DAILY_BUDGET: reserve at submit, settle on charge, release otherwise, in the database."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.test import Client, override_settings
from django.utils import timezone

from django_babysea.client import BabySea, ServerError
from django_babysea.models import BudgetDay, BudgetReservation, Generation
from django_babysea.sandbox import Sandbox
from django_babysea.services import (
    BudgetExceededError,
    budget_status,
    cancel_generation,
    create_generation,
    refresh_catalog,
    refresh_generation,
    submit_generation,
)
from django_babysea.services import budget as budget_services
from django_babysea.services.connection import clear_clients
from tests.admin.conftest import make_staff

from .conftest import MODEL, PROMPT, sandbox_settings

pytestmark = pytest.mark.django_db(transaction=True)

ZERO = Decimal(0)
PRICE = Decimal("0.005")  # bfl/flux-schnell, per output
PRICEY = "bfl/flux-1.1-pro"  # 0.052, over the whole budget
CREATE = {"method": "POST", "path": "/v1/generate/*"}


@pytest.fixture
def budget(babysea_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with a daily budget of 0.012 credits: two flux-schnell images, not three."""
    babysea_sandbox.auto_advance = False
    config = sandbox_settings(babysea_sandbox, USER_DAILY_BUDGET="0.012")
    with override_settings(BABYSEA=config):
        yield babysea_sandbox
    clear_clients()


@pytest.fixture
def priced(budget: Sandbox) -> Sandbox:
    """... and the catalog cached, so costs are computed locally."""
    refresh_catalog()
    return budget


@pytest.fixture
def user() -> Any:
    return get_user_model().objects.create_user("ada", password="pw")


def figures(user: Any) -> tuple[Decimal, Decimal, Decimal | None]:
    status = budget_status(user)
    return status.used, status.reserved, status.remaining


def submit(user: Any, model: str = MODEL, **fields: Any) -> Generation:
    return submit_generation(model, owner=user, generation_prompt=PROMPT, **fields)


def test_reserve_then_settle_on_charge(priced: Sandbox, user: Any) -> None:
    generation = submit(user)
    assert generation.status == "pending"
    assert generation.cost_reserved == PRICE
    assert figures(user) == (ZERO, PRICE, Decimal("0.007"))
    priced.advance(str(generation.generation_id), to="succeeded")
    done = refresh_generation(generation)
    assert done.cost_charged == PRICE
    assert figures(user) == (PRICE, ZERO, Decimal("0.007"))
    refresh_generation(done)  # a duplicate report settles nothing twice
    assert figures(user) == (PRICE, ZERO, Decimal("0.007"))
    assert BudgetReservation.objects.get().state == "settled"


@pytest.mark.parametrize("outcome", ["failed", "canceled"])
def test_release_on_refund(priced: Sandbox, user: Any, outcome: str) -> None:
    generation = submit(user)
    if outcome == "canceled":
        cancel_generation(generation)
    else:
        priced.advance(str(generation.generation_id), to="failed")
        refresh_generation(generation)
    assert Generation.objects.get().status == outcome
    assert figures(user) == (ZERO, ZERO, Decimal("0.012"))
    refresh_generation(generation)
    assert figures(user) == (ZERO, ZERO, Decimal("0.012"))


def test_rejected_send_releases(priced: Sandbox, user: Any) -> None:
    priced.set_balance("0.001")
    generation = submit(user)
    assert (generation.status, generation.error_code) == ("failed", "BSE1004")
    assert figures(user) == (ZERO, ZERO, Decimal("0.012"))
    assert BudgetReservation.objects.get().state == "released"


def test_local_cancel_releases(priced: Sandbox, user: Any) -> None:
    priced.inject("server_error", **CREATE)
    with pytest.raises(ServerError):
        submit(user)
    generation = Generation.objects.get()
    assert generation.status == "created"
    assert figures(user) == (ZERO, PRICE, Decimal("0.007"))  # a retryable failure keeps the hold
    assert cancel_generation(generation).status == "canceled"
    assert figures(user) == (ZERO, ZERO, Decimal("0.012"))


def test_over_budget_is_refused_before_any_call_or_row(priced: Sandbox, user: Any) -> None:
    submit(user)
    submit(user)
    calls = len(priced.received())
    rows = (Generation.objects.count(), BudgetReservation.objects.count())
    with pytest.raises(BudgetExceededError) as refused:
        submit(user)
    error = refused.value
    assert isinstance(error, ValueError)
    assert (error.limit, error.used, error.reserved, error.requested) == (
        Decimal("0.012"),
        ZERO,
        Decimal("0.010"),
        PRICE,
    )
    assert error.resets_at == budget_status(user).resets_at
    assert "costs 0.005 credits but only 0.002 of the 0.012 credits a day remain" in str(error)
    assert len(priced.received()) == calls
    assert (Generation.objects.count(), BudgetReservation.objects.count()) == rows
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (again.requested, str(again)) == (error.requested, str(error))


def test_first_submit_of_the_day_over_budget_writes_nothing(priced: Sandbox, user: Any) -> None:
    calls = len(priced.received())  # the catalog's
    with pytest.raises(BudgetExceededError):
        submit(user, PRICEY)
    assert len(priced.received()) == calls
    assert not Generation.objects.exists()
    assert not BudgetDay.objects.exists()


def test_a_submit_without_owner_or_limit_is_not_budgeted(priced: Sandbox, user: Any) -> None:
    submit_generation(PRICEY, generation_prompt=PROMPT)
    with override_settings(BABYSEA=sandbox_settings(priced)):
        submit(user, PRICEY)
        assert budget_status(user).limit is None
        assert budget_status(user).remaining is None
    assert not BudgetReservation.objects.exists()


def test_the_same_idempotency_key_reserves_once(priced: Sandbox, user: Any) -> None:
    first = submit_generation(MODEL, owner=user, idempotency_key="k-1", generation_prompt=PROMPT)
    again = submit_generation(MODEL, owner=user, idempotency_key="k-1", generation_prompt=PROMPT)
    assert again.pk == first.pk
    assert figures(user) == (ZERO, PRICE, Decimal("0.007"))


def test_budget_status_resets_at_midnight_in_the_site_time_zone(user: Any) -> None:
    with override_settings(TIME_ZONE="Asia/Tokyo", BABYSEA={"USER_DAILY_BUDGET": "1.5"}):
        now = datetime(2026, 3, 1, 20, 0, tzinfo=ZoneInfo("UTC"))  # 05:00 on 2 March in Tokyo
        status = budget_status(user, now)
        assert status.resets_at == datetime(2026, 3, 3, tzinfo=ZoneInfo("Asia/Tokyo"))
        assert (status.limit, status.used, status.reserved) == (Decimal("1.5"), ZERO, ZERO)
        assert status.remaining == Decimal("1.5")
        BudgetDay.objects.create(user=user, day="2026-03-02", used="1.000", reserved="0.700")
        assert budget_status(user, now).remaining == ZERO
        assert budget_status(user, now + timedelta(hours=19)).used == ZERO  # 3 March in Tokyo


def test_day_rollover(priced: Sandbox, user: Any) -> None:
    """Yesterday's spending does not count today; a hold is settled on the day it was made."""
    yesterday = timezone.now() - timedelta(days=1)
    held = create_generation(MODEL, {"generation_prompt": PROMPT}, owner=user)
    with transaction.atomic():
        budget_services.reserve(held, Decimal("0.012"), now=yesterday)
    assert budget_status(user, yesterday).remaining == ZERO
    assert figures(user) == (ZERO, ZERO, Decimal("0.012"))
    submit(user)
    budget_services.settle(held, Decimal("0.012"))
    assert budget_status(user, yesterday).used == Decimal("0.012")
    assert budget_status(user, yesterday).reserved == ZERO
    assert figures(user) == (ZERO, PRICE, Decimal("0.007"))


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        ("bfl/flux-schnell", {"generation_output_number": 4}),
        ("bfl/flux-2-pro", {"generation_resolution": "2MP"}),
        ("google/veo-2", {"generation_duration": 8}),
        ("bytedance/seedance-1-pro", {"generation_duration": 10}),
        ("kling/v1.5-pro", {"generation_duration": 5, "generation_resolution": "1080p"}),
        ("bytedance/seedance-1.5-pro", {"generation_duration": 8}),
        (
            "bytedance/seedance-1.5-pro",
            {"generation_duration": 5, "generation_generate_audio": False},
        ),
    ],
)
def test_local_cost_matches_babysea_estimate(
    priced: Sandbox, remote: BabySea, model: str, fields: dict[str, Any]
) -> None:
    calls = len(priced.received())
    local = budget_services.cost_of(model, fields)
    assert len(priced.received()) == calls  # computed from the cached catalog
    expected = remote.estimate(
        model,
        count=fields.get("generation_output_number"),
        duration=fields.get("generation_duration"),
        resolution=fields.get("generation_resolution"),
        audio=fields.get("generation_generate_audio"),
    )
    assert local == Decimal(str(expected.cost_total_consumed)).quantize(Decimal("0.001"))


def test_without_a_cached_price_the_estimate_is_asked(budget: Sandbox, user: Any) -> None:
    generation = submit(user)
    estimates = [r for r in budget.received() if r["path"].startswith("/v1/estimate/")]
    assert len(estimates) == 1
    assert generation.status == "pending"
    assert generation.cost_reserved == PRICE
    assert figures(user) == (ZERO, PRICE, Decimal("0.007"))


def test_an_unknown_cost_refuses_the_submit(budget: Sandbox, user: Any) -> None:
    budget.inject("server_error", method="GET", path="/v1/estimate/*")
    with pytest.raises(ValueError, match="daily budget cannot be checked"):
        submit(user)
    assert not Generation.objects.exists()


@pytest.fixture
def remote(babysea_sandbox: Sandbox) -> Iterator[BabySea]:
    with BabySea(babysea_sandbox.api_key, base_url=babysea_sandbox.url, max_retries=0) as client:
        yield client


ADD = "/admin/django_babysea/generation/add/"


def test_admin_shows_the_budget_and_refuses_over_it(priced: Sandbox) -> None:
    editor = make_staff("editor", "view_generation", "add_generation", "submit_generation")
    client = Client()
    client.force_login(editor)
    page = client.get(ADD, {"model": MODEL}).content.decode()
    assert "0.012 of 0.012 credits left today" in page
    fields = {
        "model": MODEL,
        "generation_prompt": PROMPT,
        "generation_ratio": "1:1",
        "generation_output_format": "png",
    }
    response = client.post(f"{ADD}?model={MODEL}", {**fields, "form_token": "a" * 32})
    assert response.status_code == 302
    BudgetDay.objects.update(used="0.010")
    response = client.post(f"{ADD}?model={MODEL}", {**fields, "form_token": "b" * 32})
    assert response.status_code == 200
    assert "Daily budget exceeded" in response.content.decode()
    assert Generation.objects.count() == 1


on_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="concurrent transactions need PostgreSQL (set BABYSEA_TEST_DATABASE_URL)",
)


@on_postgres
@pytest.mark.postgres
def test_concurrent_submits_never_pass_the_limit(priced: Sandbox, user: Any) -> None:
    threads, start = 6, threading.Barrier(6)
    passed: list[Generation] = []
    refused: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(10)
            passed.append(submit(user))
        except BaseException as exc:
            refused.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert len(passed) == 2
    assert len(refused) == threads - 2
    assert all(isinstance(exc, BudgetExceededError) for exc in refused), refused
    assert figures(user) == (ZERO, Decimal("0.010"), Decimal("0.002"))
    assert Generation.objects.count() == 2
