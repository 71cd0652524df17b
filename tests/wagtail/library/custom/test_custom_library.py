"""With a custom image model and without wagtailmedia: images land in the custom model, the
edit page shows their generation, videos are skipped with a clear reason."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.images import get_image_model
from wagtail.models import Collection

from django_babysea.contrib.wagtail.library import (
    NotImportableError,
    generation_for_image,
    import_output,
    media_library_installed,
    submit_to_library,
)
from django_babysea.contrib.wagtail.models import LibraryItem
from django_babysea.sandbox import Sandbox
from tests.wagtail.customimage.models import CustomImage
from tests.wagtail.library.conftest import IMAGE_MODEL, PROMPT, VIDEO_MODEL, finish

pytestmark = pytest.mark.django_db(transaction=True)


def test_images_go_into_the_custom_image_model(
    catalog: Sandbox, editor: Any, generated: Collection
) -> None:
    assert get_image_model() is CustomImage
    submission = submit_to_library(
        editor, IMAGE_MODEL, {"generation_prompt": PROMPT}, collection=generated
    )
    generation = finish(catalog, submission.generation)
    image = CustomImage.objects.get()
    assert (image.title, image.collection, image.uploaded_by_user) == (PROMPT, generated, editor)
    assert image.file_hash
    assert image.width
    assert generation_for_image(image) == generation
    assert LibraryItem.objects.get().content_type.model_class() is CustomImage

    client = Client()
    client.force_login(editor)
    response = client.get(reverse("wagtailimages:edit", args=[image.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Generated with BabySea" in html
    assert PROMPT in html
    assert 'name="credit"' in html  # the custom model's own form field is still there


def test_videos_are_skipped_without_wagtailmedia(
    catalog: Sandbox, editor: Any, generated: Collection, caplog: pytest.LogCaptureFixture
) -> None:
    assert not media_library_installed()
    submission = submit_to_library(
        editor,
        VIDEO_MODEL,
        {"generation_prompt": PROMPT, "generation_duration": 5},
        collection=generated,
    )
    with caplog.at_level(logging.WARNING, logger="django_babysea.wagtail"):
        generation = finish(catalog, submission.generation)
    output = generation.outputs.get()
    assert output.is_stored  # the copy stands; only the import is skipped
    assert LibraryItem.objects.count() == 0
    assert CustomImage.objects.count() == 0
    assert "no_media_library" in caplog.text
    with pytest.raises(NotImportableError) as raised:
        import_output(output)
    assert raised.value.reason == "no_media_library"
    assert "wagtailmedia" in str(raised.value)
