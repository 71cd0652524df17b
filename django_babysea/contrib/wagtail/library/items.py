"""Making one library object from a stored output: an image of ``get_image_model()`` or a
wagtailmedia item, with its file copied from our storage into the library's.

Nothing here decides whether to import (see :mod:`.importing`); these functions only build the
object and save its row and files.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any, Final, cast

from django.apps import apps
from django.core.files import File
from django.core.files.storage import storages
from django.db.models import Model
from wagtail.images import get_image_model
from wagtail.models import Collection

from django_babysea.models import GenerationOutput

__all__ = [
    "ItemSpec",
    "NotImportableError",
    "create_image",
    "create_media",
    "delete_files",
    "library_model_for",
    "media_library_installed",
    "opened",
]

#: How a library object's file is named: generation, output index, original extension.
FILE_NAME: Final = "babysea-{short}-{index}{suffix}"


class NotImportableError(ValueError):
    """This output cannot go into a library; ``reason`` is a short machine-readable code
    (``not_stored``, ``no_media_library``, ``unsupported_type``), the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ItemSpec:
    """What a new library object is given besides its file."""

    title: str
    description: str
    collection: Collection
    tags: list[str]
    user: Any


def media_library_installed() -> bool:
    return apps.is_installed("wagtailmedia")


def kind_of(output: GenerationOutput) -> str:
    """``image`` or ``video``: from the stored file's type, else from the generation."""
    major = output.content_type.partition("/")[0]
    return major if major in ("image", "video") else str(output.generation.kind)


def library_model_for(output: GenerationOutput) -> type[Model]:
    """The model an output becomes: the image model, or wagtailmedia's media model for a
    video; raises :class:`NotImportableError` when there is none."""
    if not output.is_stored:
        raise NotImportableError(
            "not_stored",
            f"Output {output.index} of generation {output.generation_id} is not stored "
            f"(state {output.state}); only stored copies are imported.",
        )
    kind = kind_of(output)
    if kind == "image":
        return cast(type[Model], get_image_model())
    if kind == "video":
        if not media_library_installed():
            raise NotImportableError(
                "no_media_library",
                "Videos go into wagtailmedia's media library; install wagtailmedia "
                "(the wagtail-media extra) and add it to INSTALLED_APPS to import them.",
            )
        from wagtailmedia import get_media_model

        return cast(type[Model], get_media_model())
    raise NotImportableError("unsupported_type", f"A {output.content_type} file is not imported.")


def file_name(output: GenerationOutput, suffix: str | None = None) -> str:
    suffix = suffix if suffix is not None else PurePosixPath(output.name).suffix.lower()
    short = str(output.generation_id).split("-")[0]
    return FILE_NAME.format(short=short, index=output.index, suffix=suffix)


@contextmanager
def opened(alias: str, name: str) -> Iterator[IO[bytes]]:
    """A file of our storage, opened for reading (streamed, never read whole)."""
    handle = storages[alias].open(name, "rb")
    try:
        yield handle
    finally:
        handle.close()


def create_image(output: GenerationOutput, spec: ItemSpec, file_hash: str) -> Model:
    """A new image of ``get_image_model()`` holding the output's bytes (saved, tagged)."""
    image_model = get_image_model()
    image: Any = image_model(
        title=spec.title,
        description=spec.description,
        collection=spec.collection,
        uploaded_by_user=spec.user,
    )
    with opened(output.storage, output.name) as handle:
        # Saving through the field reads width and height, as Wagtail's own upload does.
        image.file.save(file_name(output), File(handle), save=False)
    if image.width is None or image.height is None:  # not read from the file: from our header
        image.width, image.height = output.width, output.height
    image.file_size = output.size if output.size is not None else image.file.size
    image.file_hash = file_hash
    try:
        image.save()
    except BaseException:
        delete_files(image)
        raise
    if spec.tags:
        image.tags.add(*spec.tags)
    created: Model = image
    return created


def _poster(output: GenerationOutput) -> dict[str, Any] | None:
    for item in output.renditions or []:
        if item.get("role") == "poster" and item.get("name"):
            return dict(item)
    return None


def create_media(output: GenerationOutput, spec: ItemSpec) -> Model:
    """A new wagtailmedia item (type ``video``) holding the output's bytes, with the poster
    rendition as its thumbnail when one was made."""
    media_model = library_model_for(output)
    media: Any = media_model(
        title=spec.title,
        type="video",
        collection=spec.collection,
        uploaded_by_user=spec.user,
        duration=output.duration or 0,
        width=output.width,
        height=output.height,
    )
    with opened(output.storage, output.name) as handle:
        media.file.save(file_name(output), File(handle), save=False)
    poster = _poster(output)
    try:
        if poster is not None:
            suffix = PurePosixPath(str(poster["name"])).suffix.lower() or ".jpg"
            with opened(output.storage, str(poster["name"])) as handle:
                media.thumbnail.save(file_name(output, f".poster{suffix}"), File(handle), False)
        media.save()
    except BaseException:
        delete_files(media)
        raise
    if spec.tags:
        media.tags.add(*spec.tags)
    created: Model = media
    return created


def delete_files(obj: Any) -> None:
    """Delete the files saved for ``obj`` whose row was never committed (a lost race)."""
    for field_name in ("file", "thumbnail"):
        field_file = getattr(obj, field_name, None)
        if field_file:
            field_file.storage.delete(field_file.name)
