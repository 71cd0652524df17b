"""Renditions in the markup: ``<picture>``, srcset, sizes, poster; from the database only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_babysea.models import Generation, GenerationOutput
from django_babysea.sandbox import Sandbox
from django_babysea.services.media import media_for, with_media
from tests.templatetags.conftest import (
    PROMPT,
    NoFileAccessStorage,
    make_generation,
    render,
    storages_without_io,
    stored,
)

from .conftest import VIDEO_MODEL, succeed

__all__ = ["make_generation", "storages_without_io"]

Make = Callable[..., Generation]
BASE = "/files/babysea/seal/0"


def image_renditions(*widths: int, formats: tuple[str, ...] = ("avif", "webp")) -> list[Any]:
    ext = {"avif": "avif", "webp": "webp", "jpeg": "jpg"}
    return [
        {
            "role": "image",
            "format": fmt,
            "width": width,
            "height": width * 3 // 4,
            "name": f"babysea/seal/0.{width}w.{ext[fmt]}",
            "size": 1000,
        }
        for width in widths
        for fmt in formats
    ]


def srcset(ext: str, *widths: int) -> str:
    return ", ".join([*(f"{BASE}.{w}w.{ext} {w}w" for w in widths), f"{BASE}.png 1024w"])


SIZES = "(max-width: 1024px) 100vw, 1024px"


def test_picture_with_sources_and_an_img_srcset(make_generation: Make) -> None:
    generation = make_generation(stored(renditions=image_renditions(960, 480)))
    assert render("{% babysea_image g %}", g=generation) == (
        f'<picture><source type="image/avif" srcset="{srcset("avif", 480, 960)}" '
        f'sizes="{SIZES}">'
        f'<source type="image/webp" srcset="{srcset("webp", 480, 960)}" sizes="{SIZES}">'
        f'<img src="{BASE}.png" width="1024" height="768" alt="{PROMPT}" '
        f'srcset="{srcset("webp", 480, 960)}" sizes="{SIZES}" loading="lazy" decoding="async">'
        "</picture>"
    )


def test_sizes_option_width_and_picture_attributes(make_generation: Make) -> None:
    generation = make_generation(stored(renditions=image_renditions(480, formats=("webp",))))
    html = render(
        '{% babysea_image g sizes="50vw" picture_class="frame" img_class="hero" %}', g=generation
    )
    assert html == (
        f'<picture class="frame"><source type="image/webp" srcset="{srcset("webp", 480)}" '
        'sizes="50vw">'
        f'<img src="{BASE}.png" width="1024" height="768" alt="{PROMPT}" '
        f'srcset="{srcset("webp", 480)}" sizes="50vw" loading="lazy" decoding="async" '
        'class="hero"></picture>'
    )
    # A display width gives the default sizes that width.
    html = render("{% babysea_image g width=300 %}", g=generation)
    assert 'width="300" height="225"' in html
    assert html.count('sizes="(max-width: 300px) 100vw, 300px"') == 2


def test_jpeg_renditions_go_in_the_img_srcset(make_generation: Make) -> None:
    renditions = image_renditions(480, formats=("avif", "jpeg"))
    view = media_for(make_generation(stored(renditions=renditions)))
    assert [s.media_type for s in view.sources] == ["image/avif"]
    assert view.srcset == srcset("jpg", 480)


def test_source_order_follows_the_settings(make_generation: Make, settings: Any) -> None:
    generation = make_generation(stored(renditions=image_renditions(480)))
    settings.BABYSEA = {"RENDITION_FORMATS": ["webp", "avif"]}
    view = media_for(generation)
    assert [s.media_type for s in view.sources] == ["image/webp", "image/avif"]


def test_without_a_stored_width_no_srcset(make_generation: Make) -> None:
    # Without the original's width the srcset could not end with it: the plain <img>.
    generation = make_generation(stored(width=None, height=None, renditions=image_renditions(480)))
    assert render("{% babysea_image g %}", g=generation) == (
        f'<img src="{BASE}.png" alt="{PROMPT}" loading="lazy" decoding="async">'
    )


def test_video_poster(make_generation: Make) -> None:
    poster = {
        "role": "poster",
        "format": "jpeg",
        "width": 1280,
        "height": 720,
        "name": "babysea/seal/0.poster.jpg",
        "size": 9000,
    }
    generation = make_generation(
        stored(ext="mp4", width=1280, height=720, renditions=[poster]), kind="video"
    )
    assert render("{% babysea_video g %}", g=generation) == (
        '<video src="/files/babysea/seal/0.mp4" width="1280" height="720" '
        'poster="/files/babysea/seal/0.poster.jpg" preload="metadata" playsinline controls>'
        "</video>"
    )


def test_a_deleted_output_shows_no_renditions(make_generation: Make) -> None:
    generation = make_generation(stored(state="deleted", renditions=image_renditions(480)))
    html = render("{% babysea_image g %}", g=generation)
    assert html.startswith("<svg")
    assert "0.480w" not in html


PAGE = "{% for g in page %}{% babysea_media g %}{% endfor %}"


def _page(make_generation: Make, count: int) -> tuple[str, int]:
    Generation.objects.all().delete()
    for n in range(count):
        if n % 2:
            make_generation(stored(renditions=image_renditions(960, 480)), stored(1))
        else:
            poster = {"role": "poster", "format": "jpeg", "width": 1280, "height": 720}
            poster["name"] = "babysea/seal/0.poster.jpg"
            make_generation(stored(ext="mp4", renditions=[poster]), kind="video")
    with CaptureQueriesContext(connection) as queries:
        html = render(PAGE, page=with_media(Generation.objects.all()))
    return html, len(queries)


def test_constant_queries_with_renditions(make_generation: Make) -> None:
    html_10, queries_10 = _page(make_generation, 10)
    html_100, queries_100 = _page(make_generation, 100)
    assert html_10.count("<picture>") == 5
    assert html_100.count("<picture>") == 50
    assert html_100.count('poster="/files/babysea/seal/0.poster.jpg"') == 50
    assert queries_10 == queries_100 == 2  # the generations, then their outputs
    with CaptureQueriesContext(connection) as queries:
        render(PAGE, page=with_media(GenerationOutput.objects.filter(index=0)))
    assert len(queries) == 1


@pytest.mark.django_db(transaction=True)
def test_real_renditions_render_without_touching_the_storage(sandbox: Sandbox, media: Path) -> None:
    image = succeed(sandbox, generation_ratio="16:9")
    video = succeed(sandbox, VIDEO_MODEL, generation_duration=5)
    output = image.outputs.get()
    stem = f"/media/{output.name.removesuffix('.png')}"
    storages = {
        "default": {
            "BACKEND": f"{NoFileAccessStorage.__module__}.NoFileAccessStorage",
            "OPTIONS": {"location": str(media), "base_url": "/media/"},
        }
    }
    with override_settings(STORAGES=storages):
        html = render("{% babysea_image g %}|{% babysea_video v %}", g=image, v=video)
    sizes = "(max-width: 768px) 100vw, 768px"
    webp = f"{stem}.480w.webp 480w, {stem}.png 768w"
    poster = f"/media/{video.outputs.get().name.removesuffix('.mp4')}.poster.jpg"
    assert html == (
        f'<picture><source type="image/avif" srcset="{stem}.480w.avif 480w, {stem}.png 768w" '
        f'sizes="{sizes}"><source type="image/webp" srcset="{webp}" sizes="{sizes}">'
        f'<img src="{stem}.png" width="768" height="432" alt="{PROMPT}" srcset="{webp}" '
        f'sizes="{sizes}" loading="lazy" decoding="async"></picture>|'
        f'<video src="/media/{video.outputs.get().name}" width="640" height="360" '
        f'poster="{poster}" preload="metadata" playsinline controls></video>'
    )
