"""Renditions of stored outputs: made once when a file is copied, again by the command.

An image gets resized copies (``RENDITION_WIDTHS`` narrower than the original, in each of
``RENDITION_FORMATS`` the installed Pillow can write); a video gets a poster frame (ffmpeg).
They are saved beside the original as ``<stem>.<width>w.<ext>`` and ``<stem>.poster.jpg``, and
recorded on the output row (``renditions``) with the settings they were made for
(``renditions_key``), so pages render them from the database only.

The original is only read, never rewritten. A rendition that cannot be made is logged and
recorded on the row (``rendition_error``) for ``babysea_renditions`` to retry; it never fails
the copy. Running again replaces the files under the same names and deletes those the current
settings no longer want.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath
from typing import Any, NamedTuple

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import Q, QuerySet

from django_babysea.conf import babysea_settings
from django_babysea.downloads import describe
from django_babysea.downloads.sniff import dimensions
from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.renditions import (
    CONTENT_TYPES,
    EXTENSIONS,
    Encoded,
    ImageSpec,
    RenditionError,
    find_ffmpeg,
    pillow_available,
    render_image,
    render_poster,
    writable_formats,
)
from django_babysea.renditions.posters import poster_time

__all__ = [
    "Made",
    "Renditions",
    "Subject",
    "delete_renditions_later",
    "discard_renditions",
    "make_renditions",
    "prepare_renditions",
    "record_renditions",
    "rendition_candidates",
    "rendition_key",
    "rendition_name",
    "rendition_names",
    "renditions_for_copy",
]

logger = logging.getLogger("django_babysea.renditions")

Rendition = dict[str, Any]


def rendition_name(original: str, role: str, width: int, ext: str) -> str:
    """``babysea/…/0.png`` -> ``babysea/…/0.480w.webp`` (or ``0.poster.jpg``): the same
    output and settings always give the same name."""
    path = PurePosixPath(original)
    stem = path.with_suffix("").name
    middle = "poster" if role == "poster" else f"{width}w"
    return str(path.with_name(f"{stem}.{middle}.{ext}"))


def rendition_names(output: GenerationOutput) -> list[str]:
    return [str(item["name"]) for item in output.renditions or [] if item.get("name")]


def rendition_key(kind: str) -> str | None:
    """The settings (and capabilities) renditions of a ``kind`` output are made with now, as
    stored in ``renditions_key``; None when this installation cannot make any for that kind
    (no Pillow, no ffmpeg), in which case existing renditions are left alone."""
    quality = babysea_settings.RENDITION_QUALITY
    if kind == "image":
        if not pillow_available():
            return None
        formats = writable_formats(babysea_settings.RENDITION_FORMATS)
        widths = babysea_settings.RENDITION_WIDTHS
        if not formats or not widths:
            return "image:none"
        return f"image:{','.join(map(str, widths))}:{','.join(formats)}:q{quality}"
    if kind == "video":
        return f"poster:jpeg:q{quality}" if _ffmpeg() else None
    return None


def _ffmpeg() -> str | None:
    return find_ffmpeg(babysea_settings.FFMPEG_BINARY)


def rendition_candidates(*, missing_only: bool = False) -> QuerySet[GenerationOutput]:
    """Stored outputs, oldest first; with ``missing_only``, those whose renditions were made
    with other settings (or never), or whose last attempt failed."""
    stored = GenerationOutput.objects.filter(state=OutputState.STORED).exclude(name="")
    if missing_only:
        stale = Q(rendition_error__gt="")
        for kind in ("image", "video"):
            key = rendition_key(kind)
            if key is not None:
                stale |= Q(content_type__startswith=f"{kind}/") & ~Q(renditions_key=key)
        stored = stored.filter(stale)
    return stored.order_by("pk")


@dataclass(frozen=True)
class Subject:
    """What renditions are made of: a stored file and what its header told."""

    storage: str
    name: str
    kind: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None

    @classmethod
    def of(cls, output: GenerationOutput) -> Subject:
        kind = output.content_type.partition("/")[0]
        return cls(output.storage, output.name, kind, output.width, output.height, output.duration)


class Renditions(NamedTuple):
    """Files made and saved for a :class:`Subject`, not yet recorded on its row; or, with
    ``error``, why none could be (whatever was saved already is deleted again)."""

    items: list[Rendition]
    key: str
    error: str = ""


def renditions_for_copy(subject: Subject) -> Renditions | None:
    """The copy job's renditions of a file it just saved, made before its row says
    ``stored`` so that both appear together (and ``outputs_stored`` receivers see them).
    None when renditions are off or this installation cannot make any for the kind. Never
    raises: whatever happens here, the copy succeeds."""
    if not babysea_settings.RENDITIONS:
        return None
    try:
        return prepare_renditions(subject)
    except Exception:  # a bug: the copy stands, the command retries
        logger.exception("Making renditions of %s failed.", subject.name)
        return None


def prepare_renditions(subject: Subject) -> Renditions | None:
    """Make and save the renditions of ``subject``; :func:`record_renditions` puts them on
    the row. A failure is returned as ``Renditions.error``, not raised."""
    key = rendition_key(subject.kind)
    if key is None:
        return None
    saved: list[Rendition] = []
    try:
        storage = storages[subject.storage]
        for role, encoded in _encode(storage, subject):
            saved.append(_save(storage, subject.name, role, encoded))
    except Exception as exc:
        _delete_later(subject.storage, [item["name"] for item in saved], now=True)
        return Renditions([], key, _failure(subject, exc))
    return Renditions(saved, key)


def record_renditions(row: GenerationOutput, made: Renditions | None) -> None:
    """Put ``made`` on ``row`` (locked by the caller, who saves it). Renditions the row had
    that are not made again are deleted after the commit; a failure keeps the old ones and
    records its reason."""
    if made is None:
        return
    if made.error:
        row.rendition_error = made.error
        return
    kept = {item["name"] for item in made.items}
    _delete_later(row.storage, [name for name in rendition_names(row) if name not in kept])
    row.renditions, row.renditions_key, row.rendition_error = made.items, made.key, ""


def discard_renditions(alias: str, made: Renditions | None) -> None:
    """After the commit, delete files made for a row that no longer wants them."""
    if made is not None:
        _delete_later(alias, [item["name"] for item in made.items])


class Made(NamedTuple):
    """The row after :func:`make_renditions`, and how it ended: ``made``, ``failed`` (the
    reason is the row's ``rendition_error``) or ``skipped`` (not stored, deleted meanwhile, or
    a kind this installation cannot render: the row is unchanged)."""

    output: GenerationOutput
    outcome: str


def make_renditions(pk: int) -> Made:
    """Make (or remake) the renditions of one stored output and record them on its row."""
    output = GenerationOutput.objects.get(pk=pk)
    made = prepare_renditions(Subject.of(output)) if output.is_stored else None
    if made is None:
        return Made(output, "skipped")
    with transaction.atomic():
        # Generation first, then output: the order of the copy and of deletion.
        Generation.objects.select_for_update().filter(pk=output.generation_id).first()
        row = GenerationOutput.objects.select_for_update().get(pk=pk)
        if not row.is_stored or row.name != output.name:
            # Deleted (or copied anew) while we rendered: these files belong to nothing.
            discard_renditions(row.storage, made)
            return Made(row, "skipped")
        record_renditions(row, made)
        row.save(update_fields=["renditions", "renditions_key", "rendition_error", "updated_at"])
    if made.error:
        return Made(row, "failed")
    logger.info("Made %d renditions of %s.", len(made.items), row.name)
    return Made(row, "made")


def _encode(storage: Storage, subject: Subject) -> list[tuple[str, Encoded]]:
    """``(role, Encoded)`` pairs for the subject, read from a local copy of the file."""
    if subject.kind == "image":
        spec = ImageSpec(
            widths=babysea_settings.RENDITION_WIDTHS,
            formats=babysea_settings.RENDITION_FORMATS,
            quality=babysea_settings.RENDITION_QUALITY,
            max_pixels=babysea_settings.RENDITION_MAX_PIXELS,
        )
        _refuse_large(subject, spec.max_pixels)
        if not any(subject.width is None or w < subject.width for w in spec.widths):
            return []  # never upscaled: nothing to read the file for
        with _local_copy(storage, subject.name) as path, open(path, "rb") as file:
            return [("image", encoded) for encoded in render_image(file, spec)]
    ffmpeg = _ffmpeg()
    if subject.kind != "video" or ffmpeg is None:
        return []
    with _local_copy(storage, subject.name) as path:
        at = poster_time(subject.duration)
        data = render_poster(ffmpeg, path, at=at, quality=babysea_settings.RENDITION_QUALITY)
    size = dimensions(io.BytesIO(data))
    if size is None:
        raise RenditionError("ffmpeg's poster frame has no readable size.")
    return [("poster", Encoded("jpeg", *size, data))]


def _refuse_large(subject: Subject, limit: int) -> None:
    # The header's size decides before a byte is decoded: a decompression bomb is a few
    # kilobytes claiming a picture of billions of pixels.
    if subject.width and subject.height and subject.width * subject.height > limit:
        raise RenditionError(
            f"The image is {subject.width}x{subject.height} pixels, more than the {limit} "
            "allowed (RENDITION_MAX_PIXELS)."
        )


def _failure(subject: Subject, exc: Exception) -> str:
    if isinstance(exc, RenditionError):
        message = str(exc)
    else:
        # The traceback goes to the log only: a storage's message may carry credentials.
        logger.error("Renditions of %s failed unexpectedly.", subject.name, exc_info=exc)
        message = f"Renditions failed unexpectedly ({describe(exc)})."
    logger.warning("No renditions of %s: %s", subject.name, message)
    return message


@contextmanager
def _local_copy(storage: Storage, name: str) -> Iterator[str]:
    """The stored file copied to a local temporary file (a remote storage is read once, in
    chunks); ffmpeg and Pillow need a seekable file on disk."""
    suffix = PurePosixPath(name).suffix
    temp_dir = settings.FILE_UPLOAD_TEMP_DIR or None
    with tempfile.NamedTemporaryFile(prefix="babysea-", suffix=suffix, dir=temp_dir) as local:
        with storage.open(name, "rb") as source:
            shutil.copyfileobj(source, local, 1024 * 1024)
        local.flush()
        yield local.name


def _save(storage: Storage, original: str, role: str, encoded: Encoded) -> Rendition:
    name = rendition_name(original, role, encoded.width, EXTENSIONS[encoded.format])
    # Same rule as the copy: a storage that would pick another name gets the old file removed.
    if storage.get_available_name(name) != name:
        storage.delete(name)
    content = ContentFile(encoded.data, name=os.path.basename(name))
    # What S3 (django-storages) stores as the object's type; a guess from the name depends
    # on the host's mime.types (.avif is missing from many, and from Python's own before 3.13).
    content.content_type = CONTENT_TYPES[encoded.format]  # type: ignore[attr-defined]
    saved = storage.save(name, content)
    return {
        "role": role,
        "format": encoded.format,
        "width": encoded.width,
        "height": encoded.height,
        "name": saved,
        "size": len(encoded.data),
    }


def _delete_later(alias: str, names: list[str], *, now: bool = False) -> None:
    """Delete rendition files after the commit (or ``now``), logging what cannot be."""
    if not names:
        return
    run: Callable[[], None] = partial(_delete, alias, names)
    if now:
        run()
    else:
        transaction.on_commit(run)


def _delete(alias: str, names: list[str]) -> None:
    for name in names:
        try:
            storages[alias].delete(name)
        except Exception:
            logger.exception("Could not delete rendition %s from storage %r.", name, alias)


def delete_renditions_later(output: GenerationOutput) -> None:
    """For deletion of the local copy: its renditions go after the commit, and the row
    forgets them."""
    _delete_later(output.storage, rendition_names(output))
    output.renditions = []
    output.renditions_key = ""
