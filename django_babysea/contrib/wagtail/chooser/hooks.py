"""Wagtail hooks of the Generate tab.

The tab is added in the browser: a small script wraps the "choose" step of Wagtail's image
chooser modal (``window.IMAGE_CHOOSER_MODAL_ONLOAD_HANDLERS``, the handlers every image chooser
modal is opened with) to add a tab whose content comes from :mod:`.views`. Neither Wagtail's
templates nor its chooser views nor ``WAGTAILIMAGES_IMAGE_FORM_BASE`` are replaced, so other
packages customising the chooser keep working; without the script the chooser is Wagtail's own.
"""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import URLResolver, include, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from wagtail import hooks

from . import urls

__all__ = ["chooser_css", "chooser_js", "register_urls"]


@hooks.register("register_admin_urls")  # type: ignore[untyped-decorator]
def register_urls() -> list[URLResolver]:
    return [path("babysea-chooser/", include(urls, namespace="babysea_wagtail_chooser"))]


# On every admin page, not only the page editor: images are chosen in snippets, settings
# and StreamField blocks too. The script does nothing until an image chooser opens.
@hooks.register("insert_global_admin_js")  # type: ignore[untyped-decorator]
def chooser_js() -> SafeString:
    return format_html(
        '<script src="{}" data-panel-url="{}" data-tab-label="{}" defer></script>',
        static("babysea_wagtail/chooser.js"),
        reverse("babysea_wagtail_chooser:generate"),
        _("Generate"),
    )


@hooks.register("insert_global_admin_css")  # type: ignore[untyped-decorator]
def chooser_css() -> SafeString:
    return format_html('<link rel="stylesheet" href="{}">', static("babysea_wagtail/chooser.css"))
