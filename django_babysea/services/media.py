"""What a page needs to show a generation's media, read from the database only.

Rendering never opens, stats or lists the storage and never calls BabySea: everything comes
from the stored rows (dimensions, state, file name, renditions), and the only storage call is
``storage.url(name)``, which builds a string. :func:`with_media` prefetches a page of
generations (or outputs) so that rendering all of them costs a constant number of queries;
renditions are a column of the output row, so they cost none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeVar

from django.core.files.storage import storages
from django.db.models import Model, Prefetch, QuerySet

from django_babysea.conf import babysea_settings
from django_babysea.models import Generation, GenerationOutput, GenerationStatus, OutputState

__all__ = [
    "MediaView",
    "Missing",
    "Source",
    "media_for",
    "output_url",
    "parse_ratio",
    "with_media",
]

_Q = TypeVar("_Q", bound=Model)

_GENERATING = (GenerationStatus.CREATED, GenerationStatus.PENDING, GenerationStatus.PROCESSING)
_GONE = (OutputState.EXPIRED, OutputState.DELETED)
#: Formats offered in ``<source>`` elements, with their media types.
_SOURCE_TYPES = {"avif": "image/avif", "webp": "image/webp"}
#: Renditions the ``<img>``'s own srcset lists, first found wins: JPEG and PNG show in every
#: browser; WebP in every one since 2020 (Safari 14), when neither is made.
_IMG_FORMATS = ("jpeg", "png", "webp")


class Missing(StrEnum):
    """Why there is nothing to show yet (or any more)."""

    GENERATING = "generating"
    STORING = "storing"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Source:
    """One alternative format of an image (a rendition), for ``<picture><source>``."""

    media_type: str
    srcset: str


@dataclass(frozen=True)
class MediaView:
    """One output as a page shows it: a URL of the local copy, or why there is none."""

    kind: str
    prompt: str
    url: str | None
    width: int | None
    height: int | None
    #: The aspect ratio the generation asked for (``generation_ratio``), when it is known.
    requested_ratio: tuple[float, float] | None
    missing: Missing | None
    #: Renditions in modern formats (AVIF, WebP), in the preference order of the settings.
    sources: tuple[Source, ...] = ()
    #: URL of the video's poster frame, when one was made.
    poster: str | None = None
    #: The ``<img>``'s own srcset (JPEG, PNG or else WebP renditions, and the original).
    srcset: str | None = None


def with_media(queryset: QuerySet[_Q]) -> QuerySet[_Q]:
    """``queryset`` (of generations or of outputs) with what the template tags read, so a page
    of any length renders with a constant number of queries."""
    if queryset.model is GenerationOutput:
        return queryset.select_related("generation")
    outputs = GenerationOutput.objects.order_by("index")
    return queryset.prefetch_related(Prefetch("outputs", queryset=outputs))


def parse_ratio(value: object) -> tuple[float, float] | None:
    """``"16:9"`` (or ``"16/9"``) as ``(16.0, 9.0)``; None for anything else."""
    if not isinstance(value, str):
        return None
    for separator in (":", "/"):
        left, found, right = value.partition(separator)
        if found:
            try:
                width, height = float(left), float(right)
            except ValueError:
                return None
            if all(math.isfinite(n) and n > 0 for n in (width, height)):
                return width, height
            return None
    return None


def media_for(source: Generation | GenerationOutput, index: int = 0) -> MediaView:
    """The output ``index`` of a generation (or the given output) as a page shows it."""
    output: GenerationOutput | None
    if isinstance(source, GenerationOutput):
        generation, output = source.generation, source
    else:
        generation = source
        # Reads the prefetched outputs when there are any: no query per generation.
        output = next((o for o in generation.outputs.all() if o.index == index), None)
    requested = generation.request.get("generation_ratio") if generation.request else None
    url = output.url if output is not None else None
    view = MediaView(
        kind=generation.kind,
        prompt=generation.prompt,
        url=url,
        width=output.width if output is not None else None,
        height=output.height if output is not None else None,
        requested_ratio=parse_ratio(requested),
        missing=None if url is not None else _missing(generation, output),
    )
    if output is None or url is None or not output.renditions:
        return view
    return _with_renditions(view, output)


def _with_renditions(view: MediaView, output: GenerationOutput) -> MediaView:
    """``view`` with the output's renditions: one ``<source>`` per modern format, the
    ``<img>``'s srcset, the poster. Each srcset ends with the original at its own width, so a
    wide layout never gets a rendition stretched beyond its pixels."""
    storage = storages[output.storage]
    by_format: dict[str, list[tuple[int, str]]] = {}
    poster = None
    for item in output.renditions:
        if not isinstance(item, dict) or not item.get("name") or not item.get("width"):
            continue  # a hand-edited row: skip what cannot be rendered
        if item.get("role") == "poster":
            poster = poster or storage.url(item["name"])
            continue
        by_format.setdefault(str(item.get("format")), []).append(
            (int(item["width"]), storage.url(item["name"]))
        )
    original = [(output.width, view.url)] if output.width and view.url else []

    def srcset(candidates: list[tuple[int, str]]) -> str:
        return ", ".join(f"{url} {width}w" for width, url in sorted(candidates) + original)

    sources = tuple(
        Source(media_type, srcset(by_format[name]))
        for name, media_type in _SOURCE_TYPES.items()
        if by_format.get(name) and original
    )
    fallback = next((by_format[name] for name in _IMG_FORMATS if by_format.get(name)), None)
    img_srcset = srcset(fallback) if fallback and original else None
    return replace(view, sources=_ordered(sources), poster=poster, srcset=img_srcset)


def _ordered(sources: tuple[Source, ...]) -> tuple[Source, ...]:
    """Sources in the order ``RENDITION_FORMATS`` prefers (AVIF before WebP by default)."""
    order = {f"image/{name}": i for i, name in enumerate(babysea_settings.RENDITION_FORMATS)}
    return tuple(sorted(sources, key=lambda source: order.get(source.media_type, len(order))))


def output_url(source: Generation | GenerationOutput | None, index: int = 0) -> str | None:
    """The URL of the stored copy, or None: never one of BabySea's expiring URLs."""
    if source is None:
        return None
    return media_for(source, index).url


def _missing(generation: Generation, output: GenerationOutput | None) -> Missing:
    status = generation.status
    if status in _GENERATING:
        return Missing.GENERATING
    if status == GenerationStatus.FAILED:
        return Missing.FAILED
    if status == GenerationStatus.CANCELED:
        return Missing.CANCELED
    if output is None:
        return Missing.EXPIRED if generation.removed else Missing.UNAVAILABLE
    if output.state in _GONE or generation.removed:
        return Missing.EXPIRED
    return Missing.STORING
