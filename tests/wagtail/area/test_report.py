"""The usage report: generations per day, owner and model with credits, exported as CSV and
XLSX, scoped like the list."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.models import Collection

from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox

from .conftest import MODEL, REFINE_MODEL, client_for, finish, generate

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = "/cms/babysea/generations/usage/"


@pytest.fixture
def usage(sandbox: Sandbox, editor: Any, manager: Any, generated: Collection) -> dict[str, Any]:
    """Three of the editor's today (two charged), one of the manager's, one of the editor's
    three days ago."""
    charged = [finish(sandbox, generate(editor, generated)) for _ in range(2)]
    generate(editor, generated)
    generate(manager, generated, model=REFINE_MODEL)
    old = finish(sandbox, generate(editor, generated))
    three_days_ago = timezone.now() - timedelta(days=3)
    Generation.objects.filter(pk=old.pk).update(created_at=three_days_ago)
    return {"charged": charged, "old": old, "old_day": timezone.localdate(three_days_ago)}


def _csv(client: Any, query: str = "") -> list[list[str]]:
    answer = client.get(f"{REPORT}?export=csv{query}")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    text = b"".join(answer.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_csv_groups_by_day_owner_and_model(usage: dict[str, Any], manager: Any) -> None:
    rows = _csv(client_for(manager))

    today = timezone.localdate().isoformat()
    charged = sum((g.cost_charged for g in usage["charged"]), Decimal(0))
    assert rows[0] == [
        "Day",
        "Owner",
        "Model",
        "Generations",
        "Credits charged",
        "Credits reserved",
    ]
    by_key = {(row[0], row[1], row[2]): row[3:] for row in rows[1:]}
    assert by_key[(today, "editor", MODEL)][0] == "3"
    assert Decimal(by_key[(today, "editor", MODEL)][1]) == charged
    assert by_key[(today, "manager", REFINE_MODEL)][0] == "1"
    assert by_key[(today, "manager", REFINE_MODEL)][1] == ""  # nothing charged yet
    assert by_key[(usage["old_day"].isoformat(), "editor", MODEL)][0] == "1"
    assert len(rows) == 4


def test_xlsx_has_the_same_rows(usage: dict[str, Any], manager: Any) -> None:
    answer = client_for(manager).get(f"{REPORT}?export=xlsx")

    assert answer.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(answer.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == (
        "Day",
        "Owner",
        "Model",
        "Generations",
        "Credits charged",
        "Credits reserved",
    )
    body = {
        (row[1], row[2], row[0].date() if hasattr(row[0], "date") else row[0]): row[3:]
        for row in rows[1:]
    }
    today = timezone.localdate()
    assert body[("editor", MODEL, today)][0] == 3
    assert body[("manager", REFINE_MODEL, today)][0] == 1
    assert body[("editor", MODEL, usage["old_day"])][0] == 1
    charged = sum((g.cost_charged for g in usage["charged"]), Decimal(0))
    assert Decimal(str(body[("editor", MODEL, today)][1])) == charged


def test_an_editor_sees_their_own_usage_only(usage: dict[str, Any], editor: Any) -> None:
    rows = _csv(client_for(editor))
    assert {row[1] for row in rows[1:]} == {"editor"}


def test_filters_apply_before_grouping(usage: dict[str, Any], manager: Any) -> None:
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    rows = _csv(client_for(manager), f"&created_at_from={since}&model_identifier={MODEL}")
    assert [row[1:4] for row in rows[1:]] == [["editor", MODEL, "3"]]


def test_the_report_page(usage: dict[str, Any], manager: Any, stranger: Any) -> None:
    page = client_for(manager).get(REPORT)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Generation usage" in html
    assert "?export=xlsx" in html
    assert "?export=csv" in html
    assert client_for(stranger).get(REPORT).status_code == 302
