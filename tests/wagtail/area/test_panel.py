"""The homepage panel: the account's balance (cached, not asked of BabySea on every page
view) and the user's budget today."""

from __future__ import annotations

from typing import Any

import pytest
from wagtail.models import Collection

from django_babysea.sandbox import Sandbox

from .conftest import client_for, generate

pytestmark = pytest.mark.django_db(transaction=True)


def _billing_calls(sandbox: Sandbox) -> int:
    return sum(1 for request in sandbox.received() if request.get("path", "").endswith("/billing"))


def test_balance_and_budget_on_the_dashboard(
    sandbox: Sandbox, editor: Any, generated: Collection, configure: Any
) -> None:
    configure(USER_DAILY_BUDGET="1.000")
    generate(editor, generated)  # reserves 0.005 of today's budget
    sandbox.set_balance("42.125")
    client = client_for(editor)

    html = client.get("/cms/").content.decode()

    assert 'id="babysea-budget' in html or "babysea-budget" in html
    assert "42.125 credits" in html
    assert "0.995 of 1.000 credits left" in html
    # The balance comes from the cache for the next views: no call to BabySea per page view.
    before = _billing_calls(sandbox)
    assert before >= 1
    client.get("/cms/")
    client.get("/cms/")
    assert _billing_calls(sandbox) == before


def test_without_a_daily_limit_the_panel_says_so(sandbox: Sandbox, editor: Any) -> None:
    html = client_for(editor).get("/cms/").content.decode()
    assert "No daily limit" in html


def test_babysea_down_shows_the_last_known_balance_or_says_so(
    sandbox: Sandbox, editor: Any, configure: Any
) -> None:
    configure(BASE_URL="http://127.0.0.1:9", TIMEOUT=2)  # nothing listens there

    page = client_for(editor).get("/cms/")

    assert page.status_code == 200
    assert "BabySea cannot be reached" in page.content.decode()


def test_no_panel_for_someone_outside_the_area(sandbox: Sandbox, stranger: Any) -> None:
    html = client_for(stranger).get("/cms/").content.decode()
    assert "Your budget today" not in html
