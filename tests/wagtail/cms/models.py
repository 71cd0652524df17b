"""A page with a title, an intro and an image, as a Wagtail site has: what the chooser is
opened from and what ``{% image %}`` renders in the tests."""

from __future__ import annotations

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.models import Page


class ArticlePage(Page):  # type: ignore[misc]
    intro = models.TextField(blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # A tuple, as Wagtail accepts any sequence of panels (and a class-level list is mutable).
    content_panels = (*Page.content_panels, FieldPanel("intro"), FieldPanel("image"))
