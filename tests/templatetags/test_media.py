"""{% babysea_image %}, {% babysea_video %} and {% babysea_media %}: exact markup."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.template import TemplateSyntaxError

from django_babysea.models import Generation

from .conftest import PROMPT, render, stored

Make = Callable[..., Generation]
IMG = (
    f'<img src="/files/babysea/seal/0.png" width="1024" height="768" alt="{PROMPT}" '
    'loading="lazy" decoding="async">'
)


def test_image(make_generation: Make) -> None:
    generation = make_generation(stored())
    assert render("{% babysea_image g %}", g=generation) == IMG


def test_image_of_an_output_row(make_generation: Make) -> None:
    output = make_generation(stored()).outputs.get()
    assert render("{% babysea_image o %}", o=output) == IMG


def test_output_index(make_generation: Make) -> None:
    generation = make_generation(stored(0), stored(1, width=640, height=480))
    expected = (
        f'<img src="/files/babysea/seal/1.png" width="640" height="480" alt="{PROMPT}" '
        'loading="lazy" decoding="async">'
    )
    assert render("{% babysea_image g 1 %}", g=generation) == expected
    assert render("{% babysea_image g index=1 %}", g=generation) == expected


def test_options_and_prefixed_attributes(make_generation: Make) -> None:
    generation = make_generation(stored())
    html = render(
        '{% babysea_image g alt="Seal" sizes="(max-width: 600px) 100vw, 50vw" loading="eager" '
        'img_class="hero" img_data_id=7 img_decoding=None picture_class="frame" %}',
        g=generation,
    )
    # picture_ attributes apply to the <picture> element, rendered once renditions exist.
    assert html == (
        '<img src="/files/babysea/seal/0.png" width="1024" height="768" alt="Seal" '
        'sizes="(max-width: 600px) 100vw, 50vw" loading="eager" class="hero" data-id="7">'
    )


def test_empty_alt_for_a_decorative_image(make_generation: Make) -> None:
    html = render('{% babysea_image g alt="" %}', g=make_generation(stored()))
    assert ' alt="" ' in html


def test_width_scales_height(make_generation: Make) -> None:
    html = render("{% babysea_image g width=512 %}", g=make_generation(stored()))
    assert ' width="512" height="384" ' in html


def test_as_variable(make_generation: Make) -> None:
    html = render(
        '{% babysea_image g img_class="hero" as hero %}<figure>{{ hero }}</figure>',
        g=make_generation(stored()),
    )
    assert html == "<figure>" + IMG.replace(">", ' class="hero">') + "</figure>"


def test_video(make_generation: Make) -> None:
    generation = make_generation(stored(ext="mp4", width=1280, height=720), kind="video")
    assert render("{% babysea_video g %}", g=generation) == (
        '<video src="/files/babysea/seal/0.mp4" width="1280" height="720" preload="metadata" '
        "playsinline controls></video>"
    )


def test_video_options(make_generation: Make) -> None:
    generation = make_generation(stored(ext="mp4", width=1280, height=720), kind="video")
    html = render(
        '{% babysea_video g autoplay=True loop=True controls=False video_class="bg" %}',
        g=generation,
    )
    # A video only plays by itself when it is muted.
    assert html == (
        '<video src="/files/babysea/seal/0.mp4" width="1280" height="720" preload="metadata" '
        'playsinline autoplay loop muted class="bg"></video>'
    )


def test_media_picks_the_kind(make_generation: Make) -> None:
    image = make_generation(stored())
    video = make_generation(stored(ext="mp4"), kind="video")
    html = render("{% babysea_media i %}|{% babysea_media v %}", i=image, v=video)
    assert html.startswith("<img ")
    assert "|<video " in html


def test_nothing_for_an_empty_value() -> None:
    assert render("[{% babysea_image g %}{% babysea_media g %}{{ g|babysea_url }}]", g=None) == "[]"


def test_wrong_kind_is_a_clear_error(make_generation: Make) -> None:
    video = make_generation(stored(ext="mp4"), kind="video")
    with pytest.raises(TemplateSyntaxError, match="babysea_image got a video generation"):
        render("{% babysea_image g %}", g=video)


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ('{% babysea_image g klass="x" %}', "babysea_image has no option 'klass'"),
        ('{% babysea_image g video_class="x" %}', "take the prefix img_ or picture_"),
        ('{% babysea_image g ratio="wide" %}', "ratio must look like '16:9'"),
        ('{% babysea_image g width="big" %}', "width must be a number of pixels"),
        ("{% babysea_image g index=-1 %}", "cannot be negative"),
        ('{% babysea_image g index="first" %}', "must be a number"),
    ],
)
def test_bad_arguments(make_generation: Make, tag: str, message: str) -> None:
    generation = make_generation(stored(), status="pending")
    with pytest.raises(TemplateSyntaxError, match=message):
        render(tag, g=generation)


def test_not_a_generation() -> None:
    with pytest.raises(TemplateSyntaxError, match="got str"):
        render("{% babysea_image g %}", g="seal.png")


def test_media_ignores_the_other_kinds_options(make_generation: Make) -> None:
    video = make_generation(stored(ext="mp4", width=None, height=None), kind="video")
    html = render(
        '{% babysea_media v img_class="card" alt="x" video_class="clip" controls=False %}', v=video
    )
    assert html == (
        '<video src="/files/babysea/seal/0.mp4" preload="metadata" playsinline class="clip">'
        "</video>"
    )
    with pytest.raises(TemplateSyntaxError, match="babysea_video has no option 'bogus'"):
        render("{% babysea_media v bogus=1 %}", v=video)
