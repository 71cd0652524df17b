"""Renditions made in the copy job: sizes, formats, posters, the original untouched, deletion."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from django_babysea.models import GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import delete_generation
from django_babysea.services.renditions import rendition_key, rendition_names
from django_babysea.signals import outputs_stored

from .conftest import VIDEO_MODEL, opened, served, succeed

pytestmark = pytest.mark.django_db(transaction=True)


def test_png_gets_smaller_widths_in_avif_and_webp(
    sandbox: Sandbox, configure: Callable[..., None], media: Path
) -> None:
    configure(RENDITION_WIDTHS=[1000, 320, 640])
    generation = succeed(sandbox, generation_ratio="16:9", generation_output_format="png")
    output = generation.outputs.get()
    assert output.state == OutputState.STORED, output.error
    assert (output.width, output.height) == (768, 432)
    # 1000 is wider than the original: never upscaled. Largest first, each format per width.
    assert [(r["format"], r["width"], r["height"]) for r in output.renditions] == [
        ("avif", 640, 360),
        ("webp", 640, 360),
        ("avif", 320, 180),
        ("webp", 320, 180),
    ]
    stem = output.name.removesuffix(".png")
    assert [r["name"] for r in output.renditions] == [
        f"{stem}.640w.avif",
        f"{stem}.640w.webp",
        f"{stem}.320w.avif",
        f"{stem}.320w.webp",
    ]
    for item in output.renditions:
        assert item["role"] == "image"
        assert opened(media, item) == (item["format"].upper(), (item["width"], item["height"]))
        assert item["size"] == (media / item["name"]).stat().st_size
    # The original stays byte for byte what BabySea served.
    original = served(output.source_url)
    assert (media / output.name).read_bytes() == original
    assert output.sha256 == hashlib.sha256(original).hexdigest()
    assert output.renditions_key == rendition_key("image") == "image:320,640,1000:avif,webp:q80"
    assert output.rendition_error == ""


def test_jpeg_renditions_and_quality(
    sandbox: Sandbox, configure: Callable[..., None], media: Path
) -> None:
    configure(RENDITION_WIDTHS=[400], RENDITION_FORMATS=["webp", "jpeg"], RENDITION_QUALITY=40)
    generation = succeed(sandbox, generation_ratio="1:1", generation_output_format="jpg")
    output = generation.outputs.get()
    assert output.content_type == "image/jpeg"
    assert [opened(media, r) for r in output.renditions] == [
        ("WEBP", (400, 400)),
        ("JPEG", (400, 400)),
    ]
    assert output.renditions[1]["name"].endswith("/0.400w.jpg")
    assert output.renditions_key.endswith(":webp,jpeg:q40")


def test_video_gets_a_poster_frame_and_a_duration(sandbox: Sandbox, media: Path) -> None:
    generation = succeed(sandbox, VIDEO_MODEL, generation_duration=5)
    output = generation.outputs.get()
    assert output.state == OutputState.STORED, output.error
    assert output.duration == pytest.approx(5.0, abs=0.1)
    [poster] = output.renditions
    assert poster["role"] == "poster"
    assert poster["name"] == output.name.removesuffix(".mp4") + ".poster.jpg"
    assert opened(media, poster) == ("JPEG", (output.width, output.height))
    assert (media / output.name).read_bytes() == served(output.source_url)
    assert output.renditions_key == "poster:jpeg:q80"


def test_renditions_off(sandbox: Sandbox, configure: Callable[..., None], media: Path) -> None:
    configure(RENDITIONS=False)
    output = succeed(sandbox).outputs.get()
    assert output.state == OutputState.STORED
    assert (output.renditions, output.renditions_key) == ([], "")
    assert [p.name for p in (media / output.name).parent.iterdir()] == ["0.png"]


def test_deleting_the_local_copy_deletes_its_renditions(sandbox: Sandbox, media: Path) -> None:
    image = succeed(sandbox, generation_ratio="16:9")
    video = succeed(sandbox, VIDEO_MODEL, generation_duration=5)
    for generation in (image, video):
        output = generation.outputs.get()
        names = [output.name, *rendition_names(output)]
        assert len(names) > 1
        assert all((media / name).is_file() for name in names)
        delete_generation(generation)
        after = GenerationOutput.objects.get(pk=output.pk)
        assert (after.state, after.renditions) == (OutputState.DELETED, [])
        assert not any((media / name).exists() for name in names)


def test_kept_local_copies_keep_their_renditions(
    sandbox: Sandbox, configure: Callable[..., None], media: Path
) -> None:
    configure(KEEP_LOCAL_COPIES=True)
    output = succeed(sandbox, generation_ratio="16:9").outputs.get()
    delete_generation(output.generation)
    after = GenerationOutput.objects.get(pk=output.pk)
    assert after.state == OutputState.STORED
    assert all((media / name).is_file() for name in rendition_names(after))
    assert len(rendition_names(after)) == 2


def test_the_celery_copy_task_makes_them_too(sandbox: Sandbox, media: Path) -> None:
    from django_babysea import tasks

    sandbox.inject("output_status", status=503, path="/files/*")
    generation = succeed(sandbox, generation_ratio="16:9")
    assert generation.outputs.get().state == OutputState.FAILED
    result = tasks.TASKS["copy_outputs"].apply(args=[str(generation.pk)])
    assert result.successful(), result.traceback
    output = generation.outputs.get()
    assert output.state == OutputState.STORED
    assert [r["format"] for r in output.renditions] == ["avif", "webp"]
    assert all((media / name).is_file() for name in rendition_names(output))


def test_outputs_stored_receivers_see_the_renditions(sandbox: Sandbox) -> None:
    seen: list[list[str]] = []

    def receiver(outputs: list[GenerationOutput], **kwargs: object) -> None:
        # Read back from the database: the row says stored and names its renditions at once.
        seen.extend(rendition_names(GenerationOutput.objects.get(pk=o.pk)) for o in outputs)

    outputs_stored.connect(receiver)
    try:
        succeed(sandbox, generation_ratio="16:9")
    finally:
        outputs_stored.disconnect(receiver)
    assert [len(names) for names in seen] == [2]
