"""What the modal polls while a generation runs: its state and, once its image is in the
library, the image with the address of Wagtail's own "chosen" step for it."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail.images import get_image_model

from django_babysea.contrib.wagtail.models import LibraryItem
from django_babysea.models import Generation, GenerationStatus
from django_babysea.policy import get_policy

__all__ = ["generations_for", "status_data"]

PREVIEW = "max-165x165"  # the chooser's own preview size


def generations_for(user: Any) -> QuerySet[Generation]:
    """Generations ``user`` may follow: those they asked for into the library, and those the
    permission policy lets them see."""
    scoped = get_policy().scope_queryset(user, Generation.objects.all())
    return Generation.objects.filter(
        Q(pk__in=scoped.values("pk")) | Q(library_target__requested_by=user.pk)
    )


def _image_of(generation: Generation) -> Any:
    """The first library image made from the generation's outputs, or None."""
    image_model = get_image_model()
    content_type = ContentType.objects.get_for_model(image_model)
    items = LibraryItem._default_manager.filter(generation=generation, content_type=content_type)
    for item in items.order_by("output__index"):
        image = image_model.objects.filter(pk=item.object_id).first()
        if image is not None:
            return image
    return None


def _message(generation: Generation, image: Any) -> str:
    status = generation.status
    if image is not None:
        return _("The image is in the library.")
    if status == GenerationStatus.SUCCEEDED:
        return _("Generated; adding the image to the library…")
    if status in (GenerationStatus.FAILED, GenerationStatus.CANCELED):
        detail = generation.error_message or generation.get_status_display()
        return _("No image: %(detail)s") % {"detail": detail}
    if status == GenerationStatus.PROCESSING:
        return _("Generating…")
    return _("Queued at BabySea…")


def status_data(generation: Generation, select_format: bool) -> dict[str, Any]:
    """The JSON the tab polls. ``done`` ends the polling: an image to choose, or a failure."""
    image = _image_of(generation)
    failed = GenerationStatus(generation.status).is_terminal and (
        generation.status != GenerationStatus.SUCCEEDED
    )
    data: dict[str, Any] = {
        "id": str(generation.pk),
        "status": generation.status,
        "message": _message(generation, image),
        "done": image is not None or failed,
        "failed": failed and image is None,
        "image": None,
    }
    if image is not None:
        # The same step choosing the image in the Search tab takes: Wagtail checks the
        # "choose" permission and answers the page's chooser with its usual data.
        step = "select_format" if select_format else "chosen"
        chosen_url = reverse(f"wagtailimages_chooser:{step}", args=(image.pk,))
        if select_format:
            chosen_url += "?select_format=true"
        preview = image.get_rendition(PREVIEW)
        data["image"] = {
            "id": image.pk,
            "title": image.title,
            "chosen_url": chosen_url,
            "edit_url": reverse("wagtailimages:edit", args=(image.pk,)),
            "preview": {"url": preview.url, "width": preview.width, "height": preview.height},
        }
    return data
