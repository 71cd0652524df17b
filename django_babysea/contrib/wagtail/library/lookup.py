"""From a library object back to the generation it came from."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType

from django_babysea.contrib.wagtail.models import LibraryItem
from django_babysea.models import Generation

__all__ = ["generation_for_image", "library_item_for"]


def library_item_for(obj: Any) -> LibraryItem | None:
    """The :class:`LibraryItem` linking ``obj`` (an image or a media item) to its output, with
    the output and the generation loaded; the first one when identical bytes were imported
    from several outputs."""
    if obj is None or obj.pk is None:
        return None
    content_type = ContentType.objects.get_for_model(obj)
    return (
        LibraryItem.objects.filter(content_type=content_type, object_id=str(obj.pk))
        .select_related("generation", "output")
        .order_by("pk")
        .first()
    )


def generation_for_image(image: Any) -> Generation | None:
    """The generation an image (of any image model, or a wagtailmedia item) was imported
    from; None for an image uploaded by hand."""
    item = library_item_for(image)
    return None if item is None else item.generation
