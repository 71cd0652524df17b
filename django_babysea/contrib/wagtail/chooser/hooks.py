"""Wagtail hooks of this part."""
