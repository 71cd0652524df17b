"""The Wagtail example site's pages: a home page and articles with a title, an intro and an
image (``settings_wagtail``)."""
