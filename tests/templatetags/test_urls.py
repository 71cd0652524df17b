"""URL filters and tags: the stored copy's URL, relative or absolute, never BabySea's."""

from __future__ import annotations

from collections.abc import Callable

from django.test import RequestFactory

from django_babysea.models import Generation, OutputState

from .conftest import render, stored

Make = Callable[..., Generation]


def test_url_filter(make_generation: Make) -> None:
    generation = make_generation(stored(), stored(1))
    html = render("{{ g|babysea_url }} {{ g|babysea_url:1 }} [{{ g|babysea_url:2 }}]", g=generation)
    assert html == "/files/babysea/seal/0.png /files/babysea/seal/1.png []"


def test_url_of_an_output_row(make_generation: Make) -> None:
    output = make_generation(stored(), stored(1)).outputs.get(index=1)
    assert render("{{ o|babysea_url }}", o=output) == "/files/babysea/seal/1.png"


def test_no_url_until_stored(make_generation: Make) -> None:
    pending = make_generation(stored(state=OutputState.PENDING, name=""))
    assert render("[{{ g|babysea_url }}][{% babysea_absolute_url g %}]", g=pending) == "[][]"


def test_absolute_url_with_a_request(make_generation: Make) -> None:
    generation = make_generation(stored(), stored(1))
    request = RequestFactory().get("/", secure=True, HTTP_HOST="www.example.com")
    html = render(
        '<meta property="og:image" content="{% babysea_absolute_url g 1 %}">'
        "{% babysea_absolute_url g as share %}{{ share }}",
        g=generation,
        request=request,
    )
    assert html == (
        '<meta property="og:image" content="https://www.example.com/files/babysea/seal/1.png">'
        "https://www.example.com/files/babysea/seal/0.png"
    )


def test_absolute_url_without_a_request(make_generation: Make) -> None:
    generation = make_generation(stored())
    assert render("{% babysea_absolute_url g %}", g=generation) == "/files/babysea/seal/0.png"
