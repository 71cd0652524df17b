"""The chooser of generations (a ChooserViewSet): scoped lists with thumbnails, and the chosen
step answering the generation's id, prompt and inspect URL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from wagtail.models import Collection

from django_babysea.sandbox import Sandbox

from .conftest import client_for, finish, generate

pytestmark = pytest.mark.django_db(transaction=True)

CHOOSE = "/cms/babysea_generation_chooser/"


def test_the_chooser_lists_ones_own_generations_with_thumbnails(
    sandbox: Sandbox, editor: Any, manager: Any, generated: Collection
) -> None:
    mine = finish(sandbox, generate(editor, generated, "A lighthouse in fog"))
    generate(manager, generated, "A glacier calving at noon")

    answer = client_for(editor).get(CHOOSE)

    assert answer.status_code == 200
    modal = json.loads(answer.content)
    assert modal["step"] == "choose"
    assert "A lighthouse in fog" in modal["html"]
    assert "A glacier calving at noon" not in modal["html"]
    assert f'src="{mine.outputs.get().url}"' in modal["html"]
    assert f"{CHOOSE}chosen/{mine.pk}/" in modal["html"]


def test_choosing_answers_the_generation(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    mine = generate(editor, generated, "A lighthouse in fog")

    answer = client_for(editor).get(f"{CHOOSE}chosen/{mine.pk}/")

    assert answer.status_code == 200
    result = json.loads(answer.content)["result"]
    assert result["id"] == str(mine.pk)
    assert result["title"] == "A lighthouse in fog"
    assert result["edit_url"] == f"/cms/babysea/generations/inspect/{mine.pk}/"


def test_someone_elses_or_a_malformed_generation_cannot_be_chosen(
    sandbox: Sandbox, editor: Any, manager: Any, generated: Collection
) -> None:
    theirs = generate(manager, generated)
    client = client_for(editor)
    assert client.get(f"{CHOOSE}chosen/{theirs.pk}/").status_code == 404
    assert client.get(f"{CHOOSE}chosen/nonsense/").status_code == 404


def test_the_chooser_is_empty_for_someone_outside_the_area(
    sandbox: Sandbox, stranger: Any, editor: Any, generated: Collection
) -> None:
    generate(editor, generated, "A lighthouse in fog")
    answer = client_for(stranger).get(CHOOSE)
    assert answer.status_code == 200
    assert "A lighthouse in fog" not in json.loads(answer.content)["html"]
