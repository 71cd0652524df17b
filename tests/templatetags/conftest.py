"""Generations and outputs as rows in the real database, with storages that may not be opened."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.template import Context, Template
from django.test import override_settings

from django_babysea.models import Generation, GenerationOutput, OutputState

PROMPT = "A harbor seal pup asleep on a snowy ice floe"
BABYSEA_URL = "https://cdn.us.babysea.ai/outputs/0.png"


class NoFileAccessStorage(FileSystemStorage):
    """A storage whose only allowed call is ``url()``: anything that would touch the files
    (or a remote bucket) fails the test."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("rendering touched the storage")

    exists = open = size = listdir = path = delete = save = _refuse
    get_modified_time = get_created_time = get_accessed_time = _refuse


@pytest.fixture(autouse=True)
def storages_without_io(tmp_path: Path) -> Iterator[None]:
    storages = {
        "default": {"BACKEND": f"{__name__}.NoFileAccessStorage"},
        "babysea": {
            "BACKEND": f"{__name__}.NoFileAccessStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/files/"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield


def stored(index: int = 0, *, width: int | None = 1024, height: int | None = 768, **kw: Any) -> Any:
    ext = kw.pop("ext", "png")
    return {
        "index": index,
        "state": OutputState.STORED,
        "name": f"babysea/seal/{index}.{ext}",
        "width": width,
        "height": height,
        "content_type": "video/mp4" if ext == "mp4" else "image/png",
        **kw,
    }


@pytest.fixture
def make_generation(db: None) -> Callable[..., Generation]:
    def make(
        *outputs: dict[str, Any],
        kind: str = "image",
        status: str = "succeeded",
        prompt: str = PROMPT,
        request: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Generation:
        generation = Generation.objects.create(
            kind=kind,
            model_identifier="bfl/flux-schnell" if kind == "image" else "google/veo-2",
            prompt=prompt,
            status=status,
            request=request or {},
            output_urls=[BABYSEA_URL] * len(outputs),
            **fields,
        )
        for output in outputs:
            GenerationOutput.objects.create(
                generation=generation, source_url=BABYSEA_URL, storage="babysea", **output
            )
        return generation

    return make


def render(source: str, **context: Any) -> str:
    return Template("{% load babysea %}" + source).render(Context(context))
