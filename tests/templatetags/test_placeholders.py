"""What renders while there is nothing to show: a local box at the expected aspect ratio."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from django_babysea.models import Generation, OutputState

from .conftest import render, stored

Make = Callable[..., Generation]
RECT = '<rect width="100%" height="100%" fill="currentColor" opacity="0.12"/></svg>'


def svg(state: str, label: str, box: str, size: str = "") -> str:
    return (
        f'<svg class="babysea-placeholder babysea-placeholder--{state}" role="img" '
        f'aria-label="{label}" viewBox="0 0 {box}"{size}>{RECT}'
    )


@pytest.mark.parametrize("status", ["created", "pending", "processing"])
def test_being_generated_at_the_requested_ratio(make_generation: Make, status: str) -> None:
    generation = make_generation(status=status, request={"generation_ratio": "16:9"})
    html = render("{% babysea_image g %}", g=generation)
    assert html == svg("generating", "Image being generated", "16 9")


@pytest.mark.parametrize(
    ("status", "state", "label"),
    [
        ("failed", "failed", "Image generation failed"),
        ("canceled", "canceled", "Image generation canceled"),
    ],
)
def test_failed_and_canceled(make_generation: Make, status: str, state: str, label: str) -> None:
    generation = make_generation(status=status, request={"generation_ratio": "3:2"})
    assert render("{% babysea_image g %}", g=generation) == svg(state, label, "3 2")


def test_not_stored_yet_never_shows_babysea_url(make_generation: Make) -> None:
    generation = make_generation(
        stored(state=OutputState.COPYING, name="", width=None, height=None),
        request={"generation_ratio": "4:5"},
    )
    html = render("{% babysea_image g %}{{ g|babysea_url }}", g=generation)
    assert html == svg("storing", "Image being saved", "4 5")
    assert "babysea.ai" not in html


def test_expired_keeps_the_stored_size(make_generation: Make) -> None:
    generation = make_generation(stored(state=OutputState.DELETED, width=1024, height=576))
    html = render("{% babysea_image g %}", g=generation)
    expected = svg("expired", "Image no longer available", "1024 576")
    assert html == expected.replace('576">', '576" width="1024" height="576">')


def test_removed_before_it_was_copied(make_generation: Make) -> None:
    generation = make_generation(
        stored(state=OutputState.EXPIRED, name="", width=None, height=None), removed=True
    )
    html = render('{% babysea_image g ratio="2:1" %}', g=generation)
    assert html == svg("expired", "Image no longer available", "2 1")


def test_ratio_option_is_the_fallback(make_generation: Make) -> None:
    asked = make_generation(status="pending", request={"generation_ratio": "9:16"})
    silent = make_generation(status="pending")
    html = render(
        '{% babysea_image a ratio="21:9" %}|{% babysea_image s ratio="21:9" %}', a=asked, s=silent
    )
    assert html == svg("generating", "Image being generated", "9 16") + "|" + svg(
        "generating", "Image being generated", "21 9"
    )


def test_width_gives_a_fixed_box(make_generation: Make) -> None:
    generation = make_generation(status="pending", request={"generation_ratio": "16:9"})
    html = render('{% babysea_image g width=800 img_class="hero" img_id="top" %}', g=generation)
    assert html == (
        '<svg class="babysea-placeholder babysea-placeholder--generating hero" role="img" '
        'aria-label="Image being generated" viewBox="0 0 800 450" width="800" height="450" '
        f'id="top">{RECT}'
    )


def test_unknown_ratio_is_square_for_images_and_wide_for_videos(make_generation: Make) -> None:
    image = make_generation(status="pending", request={"generation_ratio": "not-a-ratio"})
    video = make_generation(status="processing", kind="video")
    html = render("{% babysea_image i %}|{% babysea_video v %}", i=image, v=video)
    assert html == svg("generating", "Image being generated", "1 1") + "|" + svg(
        "generating", "Video being generated", "16 9"
    )


def test_missing_output_index(make_generation: Make) -> None:
    generation = make_generation(stored())
    html = render("{% babysea_image g 3 %}", g=generation)
    assert html == svg("unavailable", "Image not available", "1 1")


def test_hostile_prompt_is_escaped(make_generation: Make) -> None:
    hostile = "\"' onerror=alert(1) x=\"><script>alert('x')</script>&"
    generation = make_generation(stored(), prompt=hostile)
    html = render("{% babysea_image g img_title=g.prompt %}", g=generation)
    escaped = (
        "&quot;&#x27; onerror=alert(1) x=&quot;&gt;&lt;script&gt;alert(&#x27;x&#x27;)"
        "&lt;/script&gt;&amp;"
    )
    assert html == (
        f'<img src="/files/babysea/seal/0.png" width="1024" height="768" alt="{escaped}" '
        f'loading="lazy" decoding="async" title="{escaped}">'
    )
    assert "<script>" not in html


def test_hostile_values_on_a_placeholder_are_escaped(make_generation: Make) -> None:
    generation = make_generation(status="pending", prompt='"><script>')
    html = render("{% babysea_image g img_class=g.prompt img_title=g.prompt %}", g=generation)
    assert "<script>" not in html
    assert 'babysea-placeholder--generating &quot;&gt;&lt;script&gt;"' in html
    assert 'title="&quot;&gt;&lt;script&gt;"' in html
