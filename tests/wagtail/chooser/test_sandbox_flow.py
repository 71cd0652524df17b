"""Through the real sandbox: a generation submitted from the Generate tab finishes, its image
lands in the library, the tab's status says so, and Wagtail's own "chosen" step answers the
page's chooser with that image, which ``{% image %}`` then renders on the published page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from wagtail.images import get_image_model

from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox
from django_babysea.services import refresh_generation

from .conftest import GENERATE, make_article
from .test_views import form_data

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def submit_and_finish(client: Client, sandbox: Sandbox, query: str = "") -> dict[str, Any]:
    html = client.get(GENERATE + query).content.decode()
    response = client.post(GENERATE + query, form_data(html))
    assert response.status_code == 202, response.content.decode()
    generation = Generation.objects.get()
    status_url = f"/cms/babysea-chooser/status/{generation.pk}/{query}"
    running = client.get(status_url).json()
    assert (running["done"], running["image"]) == (False, None)
    sandbox.run_until_idle()
    # No webhook endpoint in this test: the site learns of the result by polling BabySea,
    # which copies the output and imports it into the library after the commit.
    refresh_generation(generation)
    data: dict[str, Any] = client.get(status_url).json()
    return data


def test_the_finished_generation_becomes_the_chosen_image(
    sandbox: Sandbox, editor_client: Client
) -> None:
    status = submit_and_finish(editor_client, sandbox)
    assert status["status"] == "succeeded"
    assert status["done"] is True
    assert status["failed"] is False
    image = get_image_model().objects.get(pk=status["image"]["id"])
    assert image.title == "Lighthouse"
    assert image.description == "A lighthouse at dusk"
    assert sorted(image.tags.names()) == ["coast", "lighthouse"]
    assert status["image"]["preview"]["url"].startswith("/media/")

    chosen = editor_client.get(status["image"]["chosen_url"])
    assert chosen.status_code == 200
    step = json.loads(chosen.content)
    # Exactly what choosing the image in the Search tab answers.
    assert step["step"] == "chosen"
    assert step["result"]["id"] == str(image.pk)
    assert step["result"]["title"] == "Lighthouse"
    assert step["result"]["edit_url"] == f"/cms/images/{image.pk}/"

    article = make_article(intro="Five towers that still keep their lamps lit.")
    article.image_id = int(step["result"]["id"])
    article.save_revision().publish()
    page = Client().get(article.url)
    assert page.status_code == 200
    body = page.content.decode()
    assert '<img alt="A lighthouse at dusk" class="article-image"' in body
    assert 'src="/media/images/' in body


def test_rich_text_choosers_get_the_format_step(sandbox: Sandbox, editor_client: Client) -> None:
    status = submit_and_finish(editor_client, sandbox, "?select_format=true")
    image_id = status["image"]["id"]
    assert status["image"]["chosen_url"] == (
        f"/cms/images/chooser/{image_id}/select_format/?select_format=true"
    )
    step = json.loads(editor_client.get(status["image"]["chosen_url"]).content)
    assert step["step"] == "select_format"


def test_a_failed_generation_ends_the_wait(sandbox: Sandbox, editor_client: Client) -> None:
    sandbox.inject("provider_failure", provider="*", stage="run")
    status = submit_and_finish(editor_client, sandbox)
    assert status["status"] == "failed"
    assert (status["done"], status["failed"], status["image"]) == (True, True, None)
    assert status["message"].startswith("No image: ")
    assert not get_image_model().objects.exists()
