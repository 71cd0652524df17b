"""What a page carries to go live: the placeholder's token and htmx attributes, and the script."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.template import RequestContext, Template, TemplateSyntaxError
from django.test import RequestFactory

from django_babysea.models import Generation, GenerationOutput
from django_babysea.services.status import read_live_token, sign_live_token

from .conftest import page, stored

Make = Callable[..., Generation]
RECT = '<rect width="100%" height="100%" fill="currentColor" opacity="0.12"/></svg>'


def placeholder(state: str, extra: str = "", label: str = "Image being generated") -> str:
    return (
        f'<svg class="babysea-placeholder babysea-placeholder--{state}" role="img" '
        f'aria-label="{label}" viewBox="0 0 16 9"{extra}>{RECT}'
    )


@pytest.mark.parametrize("status", ["created", "pending", "processing"])
def test_a_running_generation_renders_a_live_placeholder(
    make_generation: Make, status: str
) -> None:
    generation = make_generation(status=status)
    token = sign_live_token(generation, "image", 0, {})
    html = page("{% babysea_image g %}", g=generation)
    assert html == placeholder("generating", f' data-babysea-live="{token}"')


def test_the_token_names_the_generation_and_the_tag_call(make_generation: Make) -> None:
    generation = make_generation()
    html = page('{% babysea_image g sizes="50vw" img_class="hero" width=320 %}', g=generation)
    token = html.split('data-babysea-live="')[1].split('"')[0]
    live = read_live_token(token)
    assert live.generation_id == generation.pk
    assert (live.kind, live.index) == ("image", 0)
    assert live.options == {"sizes": "50vw", "img_class": "hero", "width": 320}


def test_copy_pending_is_still_live(make_generation: Make) -> None:
    generation = make_generation(stored(state="copying", name=""), status="succeeded")
    token = sign_live_token(generation, "image", 0, {})
    html = page("{% babysea_image g %}", g=generation)
    label = "Image being saved"
    assert html == placeholder("storing", f' data-babysea-live="{token}"', label).replace(
        'viewBox="0 0 16 9"', 'viewBox="0 0 1024 768" width="1024" height="768"'
    )


@pytest.mark.parametrize(
    ("status", "state", "label"),
    [
        ("failed", "failed", "Image generation failed"),
        ("canceled", "canceled", "Image generation canceled"),
    ],
)
def test_settled_placeholders_are_not_live(
    make_generation: Make, status: str, state: str, label: str
) -> None:
    html = page("{% babysea_image g %}", g=make_generation(status=status))
    assert html == placeholder(state, label=label)


def test_stored_media_is_not_live(make_generation: Make) -> None:
    html = page("{% babysea_image g %}", g=make_generation(stored(), status="succeeded"))
    assert html.startswith("<img ")
    assert "data-babysea-live" not in html


def test_without_a_request_no_token_unless_asked(make_generation: Make) -> None:
    """E-mail and feeds render without a request: nothing there could poll."""
    generation = make_generation()
    assert page("{% babysea_image g %}", request=False, g=generation) == placeholder("generating")
    forced = page("{% babysea_image g live=True %}", request=False, g=generation)
    assert 'data-babysea-live="' in forced


def test_live_false_turns_it_off(make_generation: Make) -> None:
    html = page("{% babysea_image g live=False %}", g=make_generation())
    assert html == placeholder("generating")


def test_htmx_attributes(make_generation: Make) -> None:
    generation = make_generation()
    token = sign_live_token(generation, "image", 0, {})
    html = page('{% babysea_image g live="htmx" %}', g=generation)
    url = f"/babysea/status/?format=html&amp;t={quote(token)}"
    live = f' data-babysea-live="{token}" hx-get="{url}" hx-trigger="every 2s" hx-swap="outerHTML"'
    assert html == placeholder("generating", live)


def test_media_tag_signs_the_options_of_its_kind(make_generation: Make) -> None:
    generation = make_generation(kind="video")
    html = page('{% babysea_media g img_class="a" video_class="b" %}', g=generation)
    token = html.split('data-babysea-live="')[1].split('"')[0]
    live = read_live_token(token)
    assert (live.kind, live.options) == ("video", {"video_class": "b"})


def test_an_output_given_signs_its_index(make_generation: Make) -> None:
    generation = make_generation(stored(0), stored(1, state="pending", name=""), status="succeeded")
    second = GenerationOutput.objects.get(generation=generation, index=1)
    html = page("{% babysea_image o %}", o=second)
    assert read_live_token(html.split('data-babysea-live="')[1].split('"')[0]).index == 1


def test_a_bad_live_value_is_an_error(make_generation: Make) -> None:
    with pytest.raises(TemplateSyntaxError, match="live must be"):
        page('{% babysea_image g live="yes" %}', g=make_generation())


# -- {% babysea_live_script %} ------------------------------------------------------------------

SCRIPT = (
    '<script src="/static/django_babysea/live.js" defer{}'
    ' data-babysea-status-url="/babysea/status/"></script>'
)


def test_script_without_a_nonce() -> None:
    assert page("{% babysea_live_script %}") == SCRIPT.format("")


def test_script_with_django_csp_nonce_in_the_context() -> None:
    """Django 6's csp() context processor puts ``csp_nonce`` in the context."""
    html = page("{% babysea_live_script %}", csp_nonce="n0nce+/=")
    assert html == SCRIPT.format(' nonce="n0nce+/="')


def test_script_with_django_csp_request_nonce() -> None:
    """django-csp's middleware sets ``request.csp_nonce``."""
    request: Any = RequestFactory().get("/")
    request.csp_nonce = "from-request"
    html = Template("{% load babysea %}{% babysea_live_script %}").render(RequestContext(request))
    assert html == SCRIPT.format(' nonce="from-request"')


def test_script_nonce_is_escaped() -> None:
    html = page("{% babysea_live_script %}", csp_nonce='"><script>')
    assert 'nonce="&quot;&gt;&lt;script&gt;"' in html
