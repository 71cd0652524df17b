"""Concurrent imports of one output make one library item and one image, and leave no file of
the losers behind (PostgreSQL: SQLite cannot run the transactions side by side)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.db import connections
from wagtail.images import get_image_model
from wagtail.models import Collection

from django_babysea.contrib.wagtail.library import import_output
from django_babysea.contrib.wagtail.models import LibraryItem
from django_babysea.sandbox import Sandbox
from django_babysea.services import submit_generation

from .conftest import IMAGE_MODEL, PROMPT, finish

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="concurrent transactions need PostgreSQL (set BABYSEA_TEST_DATABASE_URL)",
    ),
]

THREADS = 6


def test_concurrent_imports_of_one_output_make_one_item(catalog: Sandbox, root: Collection) -> None:
    generation = finish(catalog, submit_generation(IMAGE_MODEL, generation_prompt=PROMPT))
    output = generation.outputs.get()
    start = threading.Barrier(THREADS)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(import_output(output).pk)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == THREADS
    assert len(set(results)) == 1
    assert LibraryItem.objects.count() == 1
    image = get_image_model().objects.get()
    assert str(image.pk) == LibraryItem.objects.get().object_id
    # Every loser deleted the file it had saved: one original is left.
    _, files = storages["default"].listdir("original_images")
    assert files == [image.file.name.rsplit("/", 1)[-1]]
