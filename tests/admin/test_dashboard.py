"""The BabySea dashboard: figures from grouped queries, remote figures cached, BabySea down."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from django_babysea.admin.dashboard import HEIGHT, column_chart
from django_babysea.models import (
    CreditEvent,
    CreditEventKind,
    Generation,
    GenerationOutput,
    GenerationStatus,
    OutputState,
)
from django_babysea.sandbox import Sandbox
from django_babysea.services.connection import clear_clients
from django_babysea.services.dashboard import DaySpend, forget_remote_status, local_figures

from .conftest import make_staff

URL = reverse("admin:django_babysea_dashboard_changelist")
CSS = (
    Path(__file__).resolve().parents[2] / "django_babysea/static/django_babysea/admin/dashboard.css"
)
STATUSES = (
    GenerationStatus.SUCCEEDED,
    GenerationStatus.SUCCEEDED,
    GenerationStatus.SUCCEEDED,
    GenerationStatus.FAILED,
    GenerationStatus.CANCELED,
    GenerationStatus.PROCESSING,
    GenerationStatus.PENDING,
)
MODELS = ("bfl/flux-schnell", "google/veo-2", "openai/gpt-image-1")


def babysea(base_url: str, api_key: str, **extra: Any) -> dict[str, Any]:
    return {"API_KEY": api_key, "BASE_URL": base_url, "MAX_RETRIES": 0, "TIMEOUT": 5, **extra}


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()
    clear_clients()


@pytest.fixture
def sandbox(babysea_sandbox: Sandbox) -> Iterator[Sandbox]:
    with override_settings(BABYSEA=babysea(babysea_sandbox.url, babysea_sandbox.api_key)):
        yield babysea_sandbox


@pytest.fixture
def unreachable() -> Iterator[str]:
    """BABYSEA pointing at a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with override_settings(BABYSEA=babysea(url, "bye_dashboard_secret_key_0123456789")):
        yield url


def make_generations(count: int, *, days: int = 20) -> None:
    """``count`` generations spread over ``days`` days, with their ledger rows and outputs."""
    now = timezone.now()
    generations = []
    for number in range(count):
        status = STATUSES[number % len(STATUSES)]
        generation = Generation(
            kind="image",
            model_identifier=MODELS[number % len(MODELS)],
            status=status,
            cost_reserved=Decimal("0.010") * (1 + number % 3),
            error_code="BSE4003" if status == GenerationStatus.FAILED else "",
            error_message="All providers failed" if status == GenerationStatus.FAILED else "",
        )
        generation.idempotency_key = f"django-babysea:{generation.id}"
        generations.append(generation)
    Generation.objects.bulk_create(generations)
    events, outputs = [], []
    for number, generation in enumerate(generations):
        amount = generation.cost_reserved or Decimal(0)
        events.append(
            CreditEvent(
                kind=CreditEventKind.RESERVE, amount=amount, generation=generation, source="create"
            )
        )
        if generation.status == GenerationStatus.SUCCEEDED:
            events.append(
                CreditEvent(
                    kind=CreditEventKind.CHARGE, amount=amount, generation=generation, source="poll"
                )
            )
            outputs.append(
                GenerationOutput(
                    generation=generation,
                    index=0,
                    source_url=f"https://cdn.us.babysea.ai/{generation.id}/0.png",
                    state=(OutputState.STORED, OutputState.PENDING, OutputState.FAILED)[number % 3],
                    storage="default",
                    remote_expires_at=now + timedelta(hours=1 + number),
                )
            )
        elif generation.status in (GenerationStatus.FAILED, GenerationStatus.CANCELED):
            events.append(
                CreditEvent(
                    kind=CreditEventKind.REFUND, amount=amount, generation=generation, source="poll"
                )
            )
    CreditEvent.objects.bulk_create(events)
    GenerationOutput.objects.bulk_create(outputs)
    for number, generation in enumerate(generations):
        when = now - timedelta(days=number % days, minutes=number)
        Generation.objects.filter(pk=generation.pk).update(created_at=when)
        CreditEvent.objects.filter(generation=generation).update(created_at=when)


# -- the figures --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_local_figures_add_up() -> None:
    make_generations(70)
    old = Generation.objects.create(kind="image", model_identifier="old/model", status="failed")
    Generation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=45))

    figures = local_figures()

    charges = CreditEvent.objects.filter(kind="charge")
    assert figures.charged == sum(e.amount for e in charges)
    assert figures.refunded == sum(e.amount for e in CreditEvent.objects.filter(kind="refund"))
    assert len(figures.days) == 30
    assert sum(d.charges for d in figures.days) == charges.count()
    assert figures.days[-1].day == timezone.localdate()
    assert {s.status: s.count for s in figures.by_status}["failed"] == 10  # not the 45-day-old one
    assert figures.generations == 70
    assert sum(m.charged for m in figures.by_model) == figures.charged
    assert {(e.code, e.count) for e in figures.error_codes} == {("BSE4003", 10)}
    assert len(figures.recent_failures) == 10
    assert all(f.error_code == "BSE4003" for f in figures.recent_failures)
    backlog = {b.state: b for b in figures.backlog}
    waiting = GenerationOutput.objects.filter(state__in=["pending", "failed", "copying"])
    assert figures.backlog_total == waiting.count() > 0
    assert figures.soonest_expiry == min(
        o.remote_expires_at for o in waiting if o.remote_expires_at
    )
    assert backlog["copying"].count == 0
    assert backlog["copying"].soonest_expiry is None


def test_column_chart_scales_to_the_highest_day() -> None:
    today = timezone.localdate()
    days = [
        DaySpend(today - timedelta(days=2), Decimal("2.000"), Decimal(0), 4),
        DaySpend(today - timedelta(days=1), Decimal(0), Decimal(0), 0),
        DaySpend(today, Decimal("1.000"), Decimal("0.5"), 1),
    ]
    columns = column_chart(days)
    assert [c.height for c in columns] == [HEIGHT, 0, HEIGHT / 2]
    assert [c.y + c.height for c in columns] == [HEIGHT] * 3
    assert "2.000 credits charged for 4 generations" in columns[0].title
    assert "for 1 generation" in columns[2].title
    assert column_chart([DaySpend(today, Decimal(0), Decimal(0), 0)])[0].height == 0


# -- the page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_shows_local_and_remote_figures(sandbox: Sandbox, editor_client: Client) -> None:
    sandbox.set_balance("42.125")
    make_generations(30)

    response = editor_client.get(URL)

    assert response.status_code == 200
    assert "admin/django_babysea/dashboard/dashboard.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert "42.125" in page  # the balance, from BabySea's billing
    assert "pro" in page.lower()  # the plan
    assert "could not be reached" not in page
    # The per-day chart: one column per day, each with a tooltip, and a data table beside it.
    assert page.count('<g class="babysea-column"><title>') == 30
    assert re.search(r'<svg viewBox="0 0 600 160" role="img" aria-labelledby="[\w-]+"', page)
    assert "<details" in page
    assert "Credits per day" in page
    assert "BSE4003" in page  # recent failures with their error codes
    assert "bfl/flux-schnell" in page
    assert "Provider health" in page
    assert "Model health" in page
    assert "<script" not in page.split('id="content-main"')[1]
    # The site's menus stay: the page is rendered with each_context (the app list is there).
    assert response.context["available_apps"]
    assert sandbox.api_key not in page


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_rows(sandbox: Sandbox, editor_client: Client) -> None:
    editor_client.get(URL)  # the remote figures are cached from here on

    def queries() -> int:
        executed: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            assert editor_client.get(URL).status_code == 200
        return len(executed)

    make_generations(50)
    at_50 = queries()
    make_generations(450)
    at_500 = queries()
    assert Generation.objects.count() == 500
    assert at_50 == at_500 > 6  # the six aggregate queries, the session and the user


@pytest.mark.django_db
def test_remote_figures_are_cached(sandbox: Sandbox, editor_client: Client) -> None:
    for _ in range(3):
        assert editor_client.get(URL).status_code == 200
    billing = [r for r in sandbox.received() if r["path"] == "/v1/user/billing"]
    assert len(billing) == 1


@pytest.mark.django_db
def test_babysea_unreachable_shows_a_notice(unreachable: str, editor_client: Client) -> None:
    make_generations(14)

    response = editor_client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "BabySea could not be reached" in page
    assert "Unknown while BabySea cannot be reached." in page
    assert "BSE4003" in page  # the local figures are there all the same
    assert "bye_dashboard_secret_key_0123456789" not in page


@pytest.mark.django_db
def test_babysea_down_shows_the_last_known_figures(sandbox: Sandbox, editor_client: Client) -> None:
    sandbox.set_balance("7.500")
    editor_client.get(URL)
    sandbox.inject("service_unavailable", times=None)
    forget_remote_status()

    response = editor_client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "BabySea could not be reached" in page
    assert "Showing the figures fetched at" in page
    assert "7.500" in page


# -- permissions and entry points ---------------------------------------------------------------


@pytest.mark.django_db
def test_view_permission_is_enough_and_needed(unreachable: str, viewer_client: Client) -> None:
    assert viewer_client.get(URL).status_code == 200
    other = Client()
    other.force_login(make_staff("generations_only", "view_generation"))
    assert other.get(URL).status_code == 403


@pytest.mark.django_db
def test_only_the_dashboard_page_exists(unreachable: str, editor_client: Client) -> None:
    make_generations(1)
    pk = Generation.objects.get().pk
    assert editor_client.get("/admin/django_babysea/dashboard/add/").status_code == 404
    assert editor_client.get(f"/admin/django_babysea/dashboard/{pk}/change/").status_code == 404
    index = editor_client.get(reverse("admin:index")).content.decode()
    assert f'href="{URL}"' in index
    assert "/admin/django_babysea/dashboard/add/" not in index


def test_stylesheet_uses_only_the_admin_colours() -> None:
    css = CSS.read_text()
    assert "var(--primary)" in css
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b|rgb\(|hsl\(", css)


@pytest.mark.django_db(transaction=True)
def test_babysea_is_not_called_inside_atomic_requests(
    sandbox: Sandbox, editor_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    inside: list[bool] = []
    real = httpx.HTTPTransport.handle_request

    def handle_request(self: httpx.HTTPTransport, sent: httpx.Request) -> httpx.Response:
        inside.append(connection.in_atomic_block)
        return real(self, sent)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
    assert editor_client.get(URL).status_code == 200
    assert inside
    assert not any(inside)
