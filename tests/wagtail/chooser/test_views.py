"""The Generate tab's views through the test client, against the sandbox: who sees the tab,
the form per model, its errors, the budget, and a submission's generation and target."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from wagtail.models import Collection, GroupCollectionPermission

from django_babysea.contrib.wagtail.chooser.views import FRAGMENT_HEADER
from django_babysea.contrib.wagtail.models import LibraryTarget
from django_babysea.models import Generation
from django_babysea.policy import DefaultPolicy
from django_babysea.sandbox import Sandbox

from .conftest import ESTIMATE, GENERATE, MODEL, PROMPT, make_editor

# Transactional: the send runs after the commit. Serialized rollback: the Editors group, the
# root collection and the home page made by Wagtail's migrations survive each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def token_of(html: str) -> str:
    found = re.search(r'name="babysea-form_token" value="([0-9a-f]{32})"', html)
    assert found, "no form token in the tab"
    return found.group(1)


def form_data(html: str, **fields: Any) -> dict[str, Any]:
    data = {
        "babysea-form_token": token_of(html),
        "babysea-model": MODEL,
        "babysea-collection": Collection.get_first_root_node().pk,
        "babysea-generation_prompt": PROMPT,
        "babysea-generation_ratio": "16:9",
        "babysea-generation_output_format": "png",
        "babysea-title": "Lighthouse",
        "babysea-description": "A lighthouse at dusk",
        "babysea-tags": "coast, lighthouse",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def creates(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.received() if r["method"] == "POST" and "generate" in r["path"]]


def test_the_tab_shows_image_models_with_prices(sandbox: Sandbox, editor_client: Client) -> None:
    response = editor_client.get(GENERATE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="babysea-generation_prompt"' in html
    assert f'value="{MODEL}"' in html
    assert "credits per output" in html
    assert "google/veo-2" not in html  # video models do not go into the image library
    assert "Draft from page" in html
    # The one collection this editor may add to is not asked about.
    assert 'type="hidden" name="babysea-collection"' in html


def test_switching_model_keeps_what_was_typed(sandbox: Sandbox, editor_client: Client) -> None:
    response = editor_client.get(
        GENERATE, {"babysea-model": "qwen/image", "babysea-generation_prompt": PROMPT}
    )
    html = response.content.decode()
    assert '<option value="qwen/image" selected>' in html
    assert PROMPT in html


def test_without_image_permission_there_is_no_tab(sandbox: Sandbox, transactional_db: None) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("reader", password="pw")
    readers = Group.objects.create(name="Readers")
    readers.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupCollectionPermission.objects.create(
        group=readers,
        collection=Collection.get_first_root_node(),
        permission=Permission.objects.get(codename="choose_image"),
    )
    user.groups.add(readers)
    client = Client()
    client.force_login(user)
    assert client.get(GENERATE).status_code == 403
    assert client.post(GENERATE, {}).status_code == 403
    assert client.get(ESTIMATE, {"model": MODEL}).status_code == 403
    assert not creates(sandbox)


def test_anonymous_is_sent_to_the_login(sandbox: Sandbox, transactional_db: None) -> None:
    response = Client().get(GENERATE)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_bad_form_is_shown_again_with_its_errors(sandbox: Sandbox, editor_client: Client) -> None:
    html = editor_client.get(GENERATE).content.decode()
    response = editor_client.post(
        GENERATE,
        form_data(html, **{"babysea-generation_prompt": "", "babysea-generation_ratio": "7:3"}),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body
    assert "Select a valid choice" in body
    assert not Generation.objects.exists()
    assert not creates(sandbox)


def test_a_damaged_token_is_refused(sandbox: Sandbox, editor_client: Client) -> None:
    html = editor_client.get(GENERATE).content.decode()
    response = editor_client.post(GENERATE, form_data(html, **{"babysea-form_token": "x"}))
    assert response.status_code == 400
    assert "This form is damaged" in response.content.decode()


def test_a_collection_out_of_reach_is_refused(sandbox: Sandbox, editor_client: Client) -> None:
    # A second tree, beside the root the Editors group may add images to.
    other = Collection.add_root(instance=Collection(name="Elsewhere"))
    html = editor_client.get(GENERATE).content.decode()
    response = editor_client.post(GENERATE, form_data(html, **{"babysea-collection": other.pk}))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Generation.objects.exists()


def test_over_budget_the_modal_says_so(
    sandbox: Sandbox, editor_client: Client, settings_for: Any
) -> None:
    settings_for(USER_DAILY_BUDGET="0.001")
    html = editor_client.get(GENERATE).content.decode()
    assert "Your budget today: 0.001 of 0.001 credits left" in html
    response = editor_client.post(GENERATE, form_data(html))
    assert response.status_code == 429
    assert "Daily budget exceeded" in response.content.decode()
    assert not Generation.objects.exists()
    assert not creates(sandbox)


def test_success_creates_the_generation_and_its_target(
    sandbox: Sandbox, editor_client: Client, editor: Any
) -> None:
    html = editor_client.get(GENERATE).content.decode()
    data = form_data(html)
    response = editor_client.post(GENERATE, data)
    assert response.status_code == 202
    generation = Generation.objects.get()
    assert generation.owner == editor
    assert generation.model_identifier == MODEL
    assert generation.request["generation_prompt"] == PROMPT
    target = LibraryTarget.objects.get(generation=generation)
    assert target.requested_by == editor
    assert target.collection == Collection.get_first_root_node()
    assert (target.title, target.description) == ("Lighthouse", "A lighthouse at dusk")
    assert target.tags == ["coast", "lighthouse"]
    body = response.content.decode()
    assert f"/cms/babysea-chooser/status/{generation.pk}/" in body
    assert len(creates(sandbox)) == 1
    # The same form posted again (a double click, a retry) finds the same generation.
    again = editor_client.post(GENERATE, data)
    assert again.status_code == 202
    assert Generation.objects.count() == 1
    assert len(creates(sandbox)) == 1


def test_the_estimate_is_babyseas(sandbox: Sandbox, editor_client: Client) -> None:
    response = editor_client.get(ESTIMATE, {"model": MODEL})
    assert response.status_code == 200
    assert response.json()["text"].startswith("Estimated cost: ")
    bad = editor_client.get(ESTIMATE, {"model": "no/such-model"})
    assert bad.status_code == 400
    assert bad.json()["text"].startswith("No estimate: ")


def test_status_is_only_for_whoever_may_see_the_generation(
    sandbox: Sandbox, editor_client: Client
) -> None:
    html = editor_client.get(GENERATE).content.decode()
    editor_client.post(GENERATE, form_data(html))
    generation = Generation.objects.get()
    url = f"/cms/babysea-chooser/status/{generation.pk}/"
    mine = editor_client.get(url)
    assert mine.status_code == 200
    assert mine.json()["done"] is False
    stranger = Client()
    stranger.force_login(make_editor("stranger"))
    assert stranger.get(url).status_code == 404


class SubmitNeedsPermission(DefaultPolicy):
    submit_needs_permission = True


POLICY = f"{__name__}.SubmitNeedsPermission"


def test_the_submit_permission_of_the_policy_is_asked(
    sandbox: Sandbox, editor_client: Client, editor: Any, settings_for: Any
) -> None:
    settings_for(PERMISSION_POLICY=POLICY)
    assert editor_client.get(GENERATE).status_code == 403
    refused = editor_client.post(GENERATE, {"babysea-model": MODEL})
    assert refused.status_code == 403
    assert "You may not generate images." in refused.content.decode()
    assert refused[FRAGMENT_HEADER] == "1"  # the script shows it in the tab
    editor.user_permissions.add(Permission.objects.get(codename="submit_generation"))
    assert editor_client.get(GENERATE).status_code == 200


def test_without_a_catalog_the_tab_says_why(
    babysea_sandbox: Sandbox, settings_for: Any, editor_client: Client
) -> None:
    babysea_sandbox.inject("server_error", method="GET", path="/v1/library/models", times=None)
    response = editor_client.get(GENERATE)
    assert response.status_code == 200
    assert "could not be fetched and none is cached yet" in response.content.decode()
    assert editor_client.post(GENERATE, {"babysea-model": MODEL}).status_code == 503
