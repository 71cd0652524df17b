"""Where copies go: UPLOAD_TO refuses format specs and field access (E007); a file-system storage
with no location is a warning (W005)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.test import override_settings

from .helpers import babysea_messages

FILE_SYSTEM = "django.core.files.storage.FileSystemStorage"


class SiteMediaStorage(FileSystemStorage):
    """A site's own file-system storage, as a dotted path in STORAGES."""


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("babysea/{generation_id}/{index:>5}.{ext}", "format specs or conversions in {index:>5}"),
        ("x/{generation_id!r}/{index}.{ext}", "format specs or conversions in {generation_id!r}"),
        ("babysea/{generation_id}/{index:{ext}}", "format specs or conversions in {index:{ext}}"),
        ("x/{generation_id.hex}/{index}.{ext}", "attribute or index access in {generation_id.hex}"),
        ("babysea/{generation_id}/{index[0]}.{ext}", "attribute or index access in {index[0]}"),
        (
            "{generation_id.__class__}/{index}",
            "attribute or index access in {generation_id.__class__}",
        ),
    ],
)
def test_upload_to_plain_fields_only(template: str, fragment: str) -> None:
    messages = babysea_messages(UPLOAD_TO=template)
    assert messages == {"django_babysea.E007": f"BABYSEA['UPLOAD_TO'] uses {fragment}."}


def storage_messages(storages: dict[str, Any] | None = None, **overrides: Any) -> dict[str, str]:
    options: dict[str, Any] = {"MEDIA_ROOT": "", **overrides}
    if storages is not None:
        options["STORAGES"] = {**storages, "staticfiles": {"BACKEND": FILE_SYSTEM}}
    with override_settings(**options):
        return babysea_messages(STORAGE="default")


def test_empty_media_root_warns() -> None:
    messages = storage_messages()
    assert list(messages) == ["django_babysea.W005"]
    assert (
        "BABYSEA['STORAGE'] is 'default', a file-system storage" in messages["django_babysea.W005"]
    )


def test_subclass_with_empty_location_warns() -> None:
    backend = f"{__name__}.SiteMediaStorage"
    storages = {"default": {"BACKEND": backend, "OPTIONS": {"location": ""}}}
    assert list(storage_messages(storages, MEDIA_ROOT="/srv/media")) == ["django_babysea.W005"]


@pytest.mark.parametrize(
    ("storages", "media_root"),
    [
        (None, "/srv/media"),
        ({"default": {"BACKEND": FILE_SYSTEM, "OPTIONS": {"location": "/srv/copies"}}}, ""),
        ({"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}, ""),
    ],
)
def test_storage_with_a_location_passes(storages: dict[str, Any] | None, media_root: str) -> None:
    assert storage_messages(storages, MEDIA_ROOT=media_root) == {}
