"""The history list: scoped by the permission policy, filtered, with thumbnails, and a
constant number of queries whatever the number of rows."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Collection

from django_babysea.models import Generation, GenerationKind, GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox

from .conftest import MODEL, PROMPT, client_for, finish, generate

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/cms/babysea/generations/"
RESULTS = "/cms/babysea/generations/results/"


def test_an_editor_sees_their_own_generations_only(
    sandbox: Sandbox, editor: Any, manager: Any, generated: Collection
) -> None:
    mine = finish(sandbox, generate(editor, generated, "A lighthouse in fog"))
    theirs = generate(manager, generated, "A glacier calving at noon")

    page = client_for(editor).get(LIST)

    assert page.status_code == 200
    html = page.content.decode()
    assert "A lighthouse in fog" in html
    assert "A glacier calving at noon" not in html
    assert f"/cms/babysea/generations/inspect/{mine.pk}/" in html
    assert f"/cms/babysea/generations/inspect/{theirs.pk}/" not in html
    # The thumbnail is the stored copy, never BabySea's expiring URL.
    output = mine.outputs.get()
    assert output.url
    assert f'src="{output.url}"' in html
    assert output.source_url not in html


def test_with_the_view_permission_everyone_is_listed_with_their_owner(
    sandbox: Sandbox, editor: Any, manager: Any, generated: Collection
) -> None:
    generate(editor, generated, "A lighthouse in fog")
    generate(manager, generated, "A glacier calving at noon")

    html = client_for(manager).get(LIST).content.decode()

    assert "A lighthouse in fog" in html
    assert "A glacier calving at noon" in html
    assert ">Owner<" in html or "Owner" in html
    assert "editor" in html


def test_someone_who_may_neither_see_nor_generate_is_refused(
    sandbox: Sandbox, stranger: Any, editor: Any, generated: Collection
) -> None:
    generate(editor, generated)
    client = client_for(stranger)

    page = client.get(LIST)
    assert page.status_code == 302  # Wagtail's "no permission" redirect to the dashboard
    home = client.get("/cms/")
    assert LIST not in home.content.decode()  # no menu item either


def test_the_menu_item_is_shown_to_an_editor(sandbox: Sandbox, editor: Any) -> None:
    assert LIST in client_for(editor).get("/cms/").content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=succeeded", {"done"}),
        ("status=pending", {"waiting", "other model"}),
        ("kind=video", set()),
        ("kind=image", {"done", "waiting", "other model"}),
        ("model_identifier=bfl%2Fflux-1.1-pro", {"other model"}),
        ("prompt=WAIT", {"waiting"}),
    ],
)
def test_filters(
    sandbox: Sandbox, editor: Any, generated: Collection, query: str, expected: set[str]
) -> None:
    finish(sandbox, generate(editor, generated, "done"))
    generate(editor, generated, "waiting")
    generate(editor, generated, "other model", model="bfl/flux-1.1-pro")

    page = client_for(editor).get(f"{RESULTS}?{query}")

    assert page.status_code == 200
    html = page.content.decode()
    assert listed(html) == expected


def listed(html: str) -> set[str]:
    """The prompts of the rows a listing shows (each row's title links to its inspect view)."""
    return set(
        re.findall(r'href="/cms/babysea/generations/inspect/[^"]+/">\s*([^<]*?)\s*</a>', html)
    )


def test_filter_by_owner_and_created_date(
    sandbox: Sandbox, editor: Any, manager: Any, generated: Collection
) -> None:
    old = generate(editor, generated, "last month")
    Generation.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    generate(editor, generated, "today by editor")
    generate(manager, generated, "today by manager")
    client = client_for(manager)

    by_owner = client.get(f"{RESULTS}?owner={editor.pk}").content.decode()
    assert listed(by_owner) == {"last month", "today by editor"}

    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    recent = client.get(f"{RESULTS}?created_at_from={since}").content.decode()
    assert listed(recent) == {"today by editor", "today by manager"}


def test_an_editor_is_offered_no_owner_filter(sandbox: Sandbox, editor: Any) -> None:
    html = client_for(editor).get(LIST).content.decode()
    assert 'name="owner"' not in html
    assert 'name="status"' in html


def test_a_bad_filter_value_is_not_an_error(sandbox: Sandbox, editor: Any) -> None:
    page = client_for(editor).get(f"{LIST}?status=nonsense&created_at_from=yesterday&owner=x")
    assert page.status_code == 200


def _rows(owner: Any, count: int) -> None:
    """``count`` succeeded generations, each with a stored output and renditions, written
    straight to the database (the list reads nothing else)."""
    generations = Generation.objects.bulk_create(
        Generation(
            kind=GenerationKind.IMAGE,
            model_identifier=MODEL,
            prompt=f"{PROMPT} #{number}",
            status="succeeded",
            owner=owner,
            idempotency_key=f"rows-{owner.pk}-{number}",
            cost_charged="0.005",
        )
        for number in range(count)
    )
    GenerationOutput.objects.bulk_create(
        GenerationOutput(
            generation=generation,
            index=0,
            source_url="https://cdn.example/x.png",
            state=OutputState.STORED,
            storage="default",
            name=f"babysea/{generation.pk}/0.png",
            width=1024,
            height=1024,
            renditions=[
                {
                    "role": "image",
                    "format": "webp",
                    "width": 320,
                    "height": 320,
                    "name": f"babysea/{generation.pk}/0-320.webp",
                    "size": 100,
                },
            ],
        )
        for generation in generations
    )


def _queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        page = client.get(LIST)
    assert page.status_code == 200
    return len(captured)


def test_queries_do_not_grow_with_the_rows(sandbox: Sandbox, manager: Any, editor: Any) -> None:
    client = client_for(manager)
    _rows(editor, 10)
    ten = _queries(client)
    _rows(manager, 40)
    fifty = _queries(client)

    assert fifty == ten
    # The listing's own share: the count, the page of rows (owner joined), its outputs, its
    # library items; the rest is the session, permissions and the filters' choices.
    with CaptureQueriesContext(connection) as captured:
        client.get(LIST)
    tables = [
        table
        for query in captured.captured_queries
        for table in ("django_babysea_generationoutput", "babysea_wagtail_libraryitem")
        if f'FROM "{table}"' in query["sql"]
    ]
    assert sorted(tables) == ["babysea_wagtail_libraryitem", "django_babysea_generationoutput"]
    html = client.get(LIST).content.decode()
    assert html.count('class="babysea-area-thumb"') == 50
