"""``babysea/status/``: what became of the generations a page shows, over real HTTP handling."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from django_babysea.live.views import HTMX_STOP_POLLING
from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.services.status import MAX_LIVE, sign_live_token

from .conftest import page, stored

Make = Callable[..., Generation]
URL = "/babysea/status/"


def token(generation: Generation, **options: Any) -> str:
    return sign_live_token(generation, generation.kind, 0, options)


def ask(client: Client, *tokens: str, **params: str) -> Any:
    return client.get(URL, {"t": ",".join(tokens), **params} if tokens else params)


def store(generation: Generation) -> None:
    GenerationOutput.objects.filter(generation=generation).update(
        state=OutputState.STORED, name="babysea/seal/0.png", width=1024, height=768
    )


def test_pending_then_stored_with_the_media_the_tag_renders(
    client: Client, make_generation: Make
) -> None:
    generation = make_generation()
    live = token(generation, img_class="hero", sizes="50vw")
    response = ask(client, live)
    assert response.status_code == 200
    assert response.json() == {
        "generations": [
            {"id": str(generation.pk), "status": "pending", "terminal": False, "live": True}
        ]
    }
    assert response["Cache-Control"] == "private, no-cache"

    Generation.objects.filter(pk=generation.pk).update(status="succeeded")
    GenerationOutput.objects.create(
        generation=generation,
        index=0,
        source_url="https://cdn.us.babysea.ai/0.png",
        storage="default",
        **{k: v for k, v in stored().items() if k != "index"},
    )
    entry = ask(client, live).json()["generations"][0]
    expected = page('{% babysea_image g img_class="hero" sizes="50vw" %}', g=generation)
    assert entry == {
        "id": str(generation.pk),
        "status": "succeeded",
        "terminal": True,
        "live": False,
        "html": expected,
    }
    assert entry["html"].startswith('<img src="/media/babysea/seal/0.png"')
    assert 'class="hero"' in entry["html"]


def test_copy_pending_is_terminal_but_live(client: Client, make_generation: Make) -> None:
    generation = make_generation(stored(state="copying", name=""), status="succeeded")
    entry = ask(client, token(generation)).json()["generations"][0]
    assert (entry["terminal"], entry["live"]) == (True, True)
    assert "html" not in entry


def test_failed_answers_the_final_placeholder(client: Client, make_generation: Make) -> None:
    generation = make_generation(status="failed")
    entry = ask(client, token(generation)).json()["generations"][0]
    assert entry["live"] is False
    assert "babysea-placeholder--failed" in entry["html"]
    assert "data-babysea-live" not in entry["html"]


def test_etag_and_304_while_unchanged(client: Client, make_generation: Make) -> None:
    generation = make_generation()
    live = token(generation)
    first = ask(client, live)
    etag = first["ETag"]
    again = client.get(URL, {"t": live}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    Generation.objects.filter(pk=generation.pk).update(status="processing")
    changed = client.get(URL, {"t": live}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["generations"][0]["status"] == "processing"


def test_entries_follow_the_tokens_order(client: Client, make_generation: Make) -> None:
    one, two = make_generation(), make_generation(status="processing")
    entries = ask(client, token(two), token(one)).json()["generations"]
    assert [e["id"] for e in entries] == [str(two.pk), str(one.pk)]


def test_a_deleted_generation_is_settled(client: Client, make_generation: Make) -> None:
    generation = make_generation()
    live = token(generation)
    generation.delete()
    entry = ask(client, live).json()["generations"][0]
    assert entry == {"id": entry["id"], "status": None, "terminal": True, "live": False}


def test_a_tampered_token_is_refused(client: Client, make_generation: Make) -> None:
    live = token(make_generation())
    payload, signature = live.rsplit(":", 1)
    other = token(make_generation())
    for bad in (payload + ":" + signature[::-1], other.rsplit(":", 1)[0] + ":" + signature, "x"):
        response = ask(client, bad)
        assert response.status_code == 400
        assert response.json() == {"error": "A live token is not valid; reload the page."}


def test_a_token_signed_for_another_purpose_is_refused(
    client: Client, make_generation: Make
) -> None:
    from django.core import signing

    forged = signing.Signer().sign_object(
        {"g": str(make_generation().pk), "k": "image", "i": 0, "o": {}}
    )
    assert ask(client, forged).status_code == 400


def test_too_many_is_refused(client: Client, make_generation: Make) -> None:
    live = token(make_generation())
    response = ask(client, *[live] * (MAX_LIVE + 1))
    assert response.status_code == 400
    assert str(MAX_LIVE) in response.json()["error"]
    ids = ",".join(str(uuid.uuid4()) for _ in range(MAX_LIVE))
    assert ask(client, live, ids=ids).status_code == 400


def test_bad_ids_are_refused(client: Client) -> None:
    response = ask(client, ids="not-a-uuid")
    assert response.status_code == 400
    assert response.json() == {"error": "ids must be generation ids."}


def test_post_is_not_allowed(client: Client) -> None:
    assert client.post(URL).status_code == 405


# -- bare ids go through the permission policy --------------------------------------------------


def test_anonymous_visitors_see_no_bare_ids(client: Client, make_generation: Make) -> None:
    generation = make_generation()
    assert ask(client, ids=str(generation.pk)).json() == {"generations": []}


def test_owners_see_their_own_by_id(client: Client, make_generation: Make) -> None:
    users = get_user_model().objects
    owner, stranger = users.create_user("owner"), users.create_user("stranger")
    mine, theirs = make_generation(owner=owner), make_generation(owner=stranger)
    client.force_login(owner)
    ids = f"{mine.pk},{theirs.pk}"
    assert ask(client, ids=ids).json() == {
        "generations": [{"id": str(mine.pk), "status": "pending", "terminal": False}]
    }


def test_a_token_shows_what_the_page_showed_to_anyone(
    client: Client, make_generation: Make
) -> None:
    owner = get_user_model().objects.create_user("owner")
    generation = make_generation(owner=owner)
    entries = ask(client, token(generation)).json()["generations"]
    assert [e["id"] for e in entries] == [str(generation.pk)]


# -- htmx fragments -----------------------------------------------------------------------------


def fragment(client: Client, live: str, **headers: str) -> Any:
    return client.get(URL, {"format": "html", "t": live}, headers=headers)


def test_fragment_204_while_waiting(client: Client, make_generation: Make) -> None:
    response = fragment(client, token(make_generation()), HX_Request="true")
    assert response.status_code == 204
    assert response.content == b""


def test_fragment_200_with_the_media_once_stored(client: Client, make_generation: Make) -> None:
    generation = make_generation(stored(), status="succeeded")
    response = fragment(client, token(generation, img_class="hero"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert html == page('{% babysea_image g img_class="hero" %}', g=generation)
    assert 'class="hero"' in html
    assert (
        fragment(
            client, token(generation, img_class="hero"), If_None_Match=response["ETag"]
        ).status_code
        == 304
    )


def test_fragment_286_stops_htmx_when_it_cannot_be_stored(
    client: Client, make_generation: Make
) -> None:
    response = fragment(client, token(make_generation(status="canceled")))
    assert response.status_code == HTMX_STOP_POLLING == 286
    assert "babysea-placeholder--canceled" in response.content.decode()


def test_fragment_takes_exactly_one_token(client: Client, make_generation: Make) -> None:
    one, two = token(make_generation()), token(make_generation())
    assert client.get(URL, {"format": "html", "t": f"{one},{two}"}).status_code == 400
    assert client.get(URL, {"format": "html"}).status_code == 400


def test_a_page_rendered_token_works_end_to_end(client: Client, make_generation: Make) -> None:
    generation = make_generation(stored(state="pending", name=""), status="succeeded")
    html = page('{% babysea_image g sizes="100vw" %}', g=generation)
    live = html.split('data-babysea-live="')[1].split('"')[0]
    assert ask(client, live).json()["generations"][0]["live"] is True
    store(generation)
    entry = ask(client, live).json()["generations"][0]
    assert entry["html"] == page('{% babysea_image g sizes="100vw" %}', g=generation)
    assert 'sizes="100vw"' in entry["html"]


@pytest.mark.parametrize("count", [1, 10])
def test_queries_do_not_grow_with_the_page(
    client: Client, make_generation: Make, django_assert_max_num_queries: Any, count: int
) -> None:
    tokens = [token(make_generation(stored(), status="succeeded")) for _ in range(count)]
    with django_assert_max_num_queries(3):
        assert ask(client, *tokens).status_code == 200
