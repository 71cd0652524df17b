"""The inspect view: the prompt, request, status, provider, cost, outputs with previews, the
credit ledger and the library items a generation became."""

from __future__ import annotations

import html as htmllib
from typing import Any

import pytest
from wagtail.models import Collection

from django_babysea.contrib.wagtail.models import LibraryItem
from django_babysea.models import CreditEvent
from django_babysea.sandbox import Sandbox

from .conftest import client_for, finish, generate

pytestmark = pytest.mark.django_db(transaction=True)


def inspect_url(generation: Any) -> str:
    return f"/cms/babysea/generations/inspect/{generation.pk}/"


def test_everything_about_a_generation(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    generation = finish(
        sandbox,
        generate(editor, generated, "A lighthouse in fog, ratio test", generation_ratio="16:9"),
    )
    assert generation.status == "succeeded"

    page = client_for(editor).get(inspect_url(generation))

    assert page.status_code == 200
    html = htmllib.unescape(page.content.decode())
    assert "A lighthouse in fog, ratio test" in html
    assert '"generation_ratio": "16:9"' in html  # the request as sent
    assert generation.provider_used
    assert generation.provider_used in html
    assert str(generation.cost_charged) in html
    output = generation.outputs.get()
    assert f'src="{output.url}"' in html  # the stored copy as a preview
    # The ledger: BabySea's reserve and charge of this generation.
    kinds = set(CreditEvent.objects.filter(generation=generation).values_list("kind", flat=True))
    assert "charge" in kinds
    assert "Charge" in html
    # The library item the output became, linked to its edit page.
    item = LibraryItem.objects.get(generation=generation)
    assert f"/cms/images/{item.object_id}/" in html
    # Actions offered to its owner: regenerate and refine; not import (already imported), not
    # cancel or delete (no BabySea permission).
    assert f"/cms/babysea/generations/regenerate/{generation.pk}/" in html
    assert f"/cms/babysea/generations/refine/{generation.pk}/" in html
    assert f"/cms/babysea/generations/import/{generation.pk}/" not in html
    assert f"/cms/babysea/generations/cancel/{generation.pk}/" not in html


def test_someone_elses_generation_does_not_exist_for_an_editor(
    sandbox: Sandbox, editor: Any, manager: Any, generated: Collection
) -> None:
    theirs = generate(manager, generated)
    assert client_for(editor).get(inspect_url(theirs)).status_code == 404
    assert client_for(manager).get(inspect_url(theirs)).status_code == 200


def test_an_unknown_or_malformed_id_is_not_found(sandbox: Sandbox, editor: Any) -> None:
    client = client_for(editor)
    assert client.get("/cms/babysea/generations/inspect/not-a-uuid/").status_code == 404
    missing = "/cms/babysea/generations/inspect/00000000-0000-0000-0000-000000000000/"
    assert client.get(missing).status_code == 404


def test_the_history_lists_the_audit_log(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    generation = generate(editor, generated)
    page = client_for(editor).get(f"/cms/babysea/generations/history/{generation.pk}/")
    assert page.status_code == 200
    assert "Generation submitted to BabySea" in page.content.decode()
