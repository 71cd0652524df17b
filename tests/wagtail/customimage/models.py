"""A custom image model (``WAGTAILIMAGES_IMAGE_MODEL``), as many Wagtail sites have: the
library must import into it, not into ``wagtailimages.Image``."""

from __future__ import annotations

from django.db import models
from wagtail.images.models import AbstractImage, AbstractRendition, Image


class CustomImage(AbstractImage):  # type: ignore[misc]
    credit = models.CharField(max_length=255, blank=True)

    admin_form_fields = (*Image.admin_form_fields, "credit")


class CustomRendition(AbstractRendition):  # type: ignore[misc]
    image = models.ForeignKey(CustomImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)
