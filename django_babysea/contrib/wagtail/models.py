"""What ties generations to Wagtail: where an editor asked the outputs to go, and which library
item (an image, or a wagtailmedia item) each output became.

Library items are referred to by content type and id, not by a foreign key, so a custom image
model (``WAGTAILIMAGES_IMAGE_MODEL``) or wagtailmedia's media model needs no migration of ours.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_babysea.models import Generation, GenerationOutput


class LibraryTarget(models.Model):
    """Where the outputs of one generation go once stored: a collection, a title, alt text and
    tags, as the editor chose them when submitting."""

    generation = models.OneToOneField(
        Generation,
        on_delete=models.CASCADE,
        related_name="library_target",
        verbose_name=_("generation"),
    )
    collection = models.ForeignKey(
        "wagtailcore.Collection",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("collection"),
    )
    title = models.CharField(_("title"), max_length=255, blank=True)
    description = models.TextField(_("alt text"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("library target")
        verbose_name_plural = _("library targets")

    def __str__(self) -> str:
        return f"library target of {self.generation_id}"


class LibraryItem(models.Model):
    """One output imported into Wagtail's image library (or wagtailmedia's media library)."""

    output = models.ForeignKey(
        GenerationOutput,
        on_delete=models.CASCADE,
        related_name="library_items",
        verbose_name=_("output"),
    )
    generation = models.ForeignKey(
        Generation,
        on_delete=models.CASCADE,
        related_name="library_items",
        verbose_name=_("generation"),
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name=_("content type")
    )
    object_id = models.CharField(_("object id"), max_length=64)
    item = GenericForeignKey("content_type", "object_id")
    file_hash = models.CharField(_("file hash"), max_length=64, blank=True, db_index=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    created_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("library item")
        verbose_name_plural = _("library items")
        constraints = (
            # One output becomes one image (or one media item) of a model, whatever the number
            # of imports asked for it, concurrent ones included.
            models.UniqueConstraint(
                fields=["output", "content_type"], name="babysea_wagtail_one_item_per_output"
            ),
        )
        # generation_for_image(): from a library item back to its generation.
        indexes = (
            models.Index(fields=["content_type", "object_id"], name="babysea_wagtail_item_idx"),
        )

    def __str__(self) -> str:
        return f"{self.content_type.model} {self.object_id} from output {self.output_id}"
