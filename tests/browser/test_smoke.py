"""The admin in a real browser: sign in, the app's pages render, and a generation finished by
the sandbox's webhooks shows up in the change list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib import admin
from django.utils.text import capfirst

from django_babysea.models import Generation, GenerationStatus
from django_babysea.services import submit_generation

from .conftest import LiveSite

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from django_babysea.sandbox import Sandbox

CHANGELIST = "/admin/django_babysea/generation/"
MODEL = "bfl/flux-schnell"
PROMPT = "A harbor seal pup asleep on a snowy ice floe"


def app_models() -> set[str]:
    """The names the admin index shows for the app's registered models."""
    return {
        str(capfirst(model._meta.verbose_name_plural))
        for model in admin.site._registry
        if model._meta.app_label == "django_babysea"
    }


def test_index_and_generation_change_list(
    page: Page, live_site: LiveSite, screenshot: Callable[..., Path]
) -> None:
    page.goto(f"{live_site.url}/admin/")
    module = page.locator(".app-django_babysea.module")
    listed = set(module.locator("th[scope=row]").all_inner_texts())
    assert listed == app_models()
    screenshot("admin-index")

    page.click(f".app-django_babysea a[href='{CHANGELIST}']")
    page.wait_for_url(f"{live_site.url}{CHANGELIST}")
    assert page.locator("#changelist").is_visible()
    assert page.title().startswith("Select generation to change")
    screenshot("generation-change-list")


@pytest.mark.browser_context(color_scheme="dark", viewport={"width": 400, "height": 800})
def test_dark_mode_on_a_narrow_screen(
    page: Page, live_site: LiveSite, screenshot: Callable[..., Path]
) -> None:
    page.goto(f"{live_site.url}{CHANGELIST}")
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    assert page.evaluate("document.documentElement.clientWidth") <= 400
    # The admin's own dark palette is in use (its --body-bg is near black, not white).
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)", background
    screenshot("generation-change-list-dark-narrow")


def test_generation_finished_by_webhooks_appears_in_change_list(
    page: Page, live_site: LiveSite, site_sandbox: Sandbox, screenshot: Callable[..., Path]
) -> None:
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    assert generation.status == GenerationStatus.PENDING
    # Links keep the list's filters in their query string (_changelist_filters).
    link = f"a[href^='{CHANGELIST}{generation.pk}/change/']"
    succeeded = f"{live_site.url}{CHANGELIST}?status__exact={GenerationStatus.SUCCEEDED}"

    page.goto(succeeded)
    rows = page.locator("#result_list tbody tr").filter(has=page.locator(link))
    assert page.locator("#changelist").is_visible()
    assert rows.count() == 0

    live_site.finish()  # the sandbox completes it; only its webhooks tell the site
    generation.refresh_from_db()
    assert generation.status == GenerationStatus.SUCCEEDED
    assert {d["status_code"] for d in site_sandbox.deliveries()} == {200}

    page.reload()
    assert rows.count() == 1
    assert Generation.objects.count() == 1
    screenshot("generation-change-list-succeeded")
