"""Videos go into wagtailmedia's media library, their poster frame as its thumbnail (real
sandbox MP4, real ffmpeg poster, real storage)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import storages
from wagtail.images import get_image_model
from wagtail.models import Collection
from wagtailmedia import get_media_model

from django_babysea.contrib.wagtail.library import (
    generation_for_image,
    import_output,
    submit_to_library,
)
from django_babysea.contrib.wagtail.models import LibraryItem
from django_babysea.sandbox import Sandbox

from .conftest import PROMPT, VIDEO_MODEL, finish

pytestmark = pytest.mark.django_db(transaction=True)

Media = get_media_model()


def read(alias: str, name: str) -> bytes:
    with storages[alias].open(name, "rb") as handle:
        return bytes(handle.read())


def test_a_video_goes_into_the_media_library_with_its_poster(
    catalog: Sandbox, editor: Any, generated: Collection
) -> None:
    submission = submit_to_library(
        editor,
        VIDEO_MODEL,
        {"generation_prompt": PROMPT, "generation_duration": 5},
        collection=generated,
        tags=["video"],
    )
    generation = finish(catalog, submission.generation)
    output = generation.outputs.get()
    poster = next(r for r in output.renditions if r["role"] == "poster")

    media = Media.objects.get()
    assert get_image_model().objects.count() == 0
    assert (media.type, media.title, media.collection) == ("video", PROMPT, generated)
    assert media.uploaded_by_user == editor
    assert list(media.tags.names()) == ["video"]
    assert (media.width, media.height) == (output.width, output.height)
    assert media.duration == pytest.approx(output.duration)
    assert read("default", media.file.name) == read(output.storage, output.name)
    assert read("default", media.thumbnail.name) == read(output.storage, poster["name"])
    assert generation_for_image(media) == generation

    # Imported once: the item is found again, with no second media item.
    assert import_output(output).pk == LibraryItem.objects.get().pk
    assert Media.objects.count() == 1
