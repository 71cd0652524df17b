"""The library items a generation became, as the inspect view lists them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wagtail.admin.admin_url_finder import AdminURLFinder

from django_babysea.contrib.wagtail.models import LibraryItem
from django_babysea.models import Generation

__all__ = ["ListedItem", "library_items_of"]


@dataclass(frozen=True)
class ListedItem:
    title: str
    kind: str
    output_index: int
    edit_url: str | None
    thumbnail_url: str | None


def _thumbnail(item: Any) -> str | None:
    # Wagtail images have renditions; wagtailmedia items a thumbnail (the video's poster).
    get_rendition = getattr(item, "get_rendition", None)
    if callable(get_rendition):
        try:
            return str(get_rendition("max-160x120").url)
        except (OSError, ValueError):  # a missing or unreadable original (SourceImageIOError)
            return None
    thumbnail = getattr(item, "thumbnail", None)
    return str(thumbnail.url) if thumbnail else None


def library_items_of(generation: Generation, user: Any = None) -> list[ListedItem]:
    rows = (
        LibraryItem.objects.filter(generation=generation)
        .select_related("content_type", "output")
        .prefetch_related("item")
        .order_by("output__index", "pk")
    )
    finder = AdminURLFinder(user)
    listed = []
    for row in rows:
        item = row.item
        if item is None:  # the image was deleted from the library since
            continue
        listed.append(
            ListedItem(
                title=str(getattr(item, "title", item)),
                kind=str(row.content_type.model_class()._meta.verbose_name),  # type: ignore[union-attr]
                output_index=row.output.index,
                edit_url=finder.get_edit_url(item) if user is not None else None,
                thumbnail_url=_thumbnail(item),
            )
        )
    return listed
