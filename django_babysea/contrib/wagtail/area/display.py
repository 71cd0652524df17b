"""How a generation looks in the area's tables: a thumbnail, credits, a status tag.

Everything comes from rows already loaded (outputs prefetched by
:func:`~django_babysea.services.media.with_media`): a thumbnail costs no query and never
opens the storage or calls BabySea.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.utils import formats
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column

from django_babysea.models import Generation, GenerationOutput
from django_babysea.services.media import MediaView, media_for

__all__ = [
    "STATUS_TONES",
    "CreditsColumn",
    "StatusColumn",
    "Thumbnail",
    "ThumbnailColumn",
    "credits",
    "thumbnail",
]

#: Wagtail's status tag colours for each status.
STATUS_TONES: Final = {
    "created": "secondary",
    "pending": "secondary",
    "processing": "info",
    "succeeded": "success",
    "failed": "critical",
    "canceled": "warning",
}
#: The width thumbnails are shown at, in CSS pixels (the srcset lets the browser pick).
THUMB_WIDTH: Final = 80


@dataclass(frozen=True)
class Thumbnail:
    """What a table cell shows: an image URL (the stored output, or a video's poster frame),
    its srcset, and why there is none."""

    url: str | None
    srcset: str | None
    is_video: bool
    missing: str
    alt: str


def _picture(view: MediaView) -> tuple[str | None, str | None]:
    if view.kind == "video":
        return view.poster, None
    return view.url, view.srcset


def thumbnail(source: Generation | GenerationOutput) -> Thumbnail:
    view = media_for(source)
    url, srcset = _picture(view)
    return Thumbnail(
        url=url,
        srcset=srcset,
        is_video=view.kind == "video",
        missing=str(view.missing.value) if view.missing is not None else "",
        alt=view.prompt[:200],
    )


def credits(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    return formats.number_format(amount, 3, use_l10n=True)


class ThumbnailColumn(Column):  # type: ignore[misc]
    cell_template_name = "babysea_wagtail/area/cells/thumbnail.html"

    def __init__(self, name: str = "thumbnail", **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Preview"))
        kwargs.setdefault("width", f"{THUMB_WIDTH + 16}px")
        super().__init__(name, accessor=thumbnail, **kwargs)

    def get_cell_context_data(self, instance: Any, parent_context: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_cell_context_data(instance, parent_context)
        context["thumb_width"] = THUMB_WIDTH
        return context


class StatusColumn(Column):  # type: ignore[misc]
    cell_template_name = "babysea_wagtail/area/cells/status.html"

    def get_cell_context_data(self, instance: Any, parent_context: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_cell_context_data(instance, parent_context)
        context["tone"] = STATUS_TONES.get(instance.status, "secondary")
        context["label"] = instance.get_status_display()
        return context


class CreditsColumn(Column):  # type: ignore[misc]
    def get_value(self, instance: Any) -> str:
        return credits(super().get_value(instance))
