"""The image's edit page shows the generation it came from: through the test client (real
HTTP handling, real database) and in a real browser (screenshot for the docs)."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.images import ImageFile
from django.test import Client, override_settings
from django.urls import reverse
from wagtail.images import get_image_model
from wagtail.models import Collection

from django_babysea.contrib.wagtail.library import submit_to_library
from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox
from tests.browser.conftest import DOCS_SCREENSHOTS, TIMEOUT_MS
from tests.live import LiveSite

from .conftest import IMAGE_MODEL, PROMPT, finish

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.django_db(transaction=True)

Image = get_image_model()


def generate(sandbox: Sandbox, user: Any, collection: Collection) -> tuple[Generation, Any]:
    submission = submit_to_library(
        user, IMAGE_MODEL, {"generation_prompt": PROMPT}, collection=collection, title="Seal pup"
    )
    generation = finish(sandbox, submission.generation)
    return generation, Image.objects.get()


def edit_page(client: Client, image: Any) -> str:
    response = client.get(reverse("wagtailimages:edit", args=[image.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_edit_page_shows_the_generation(
    catalog: Sandbox, editor: Any, generated: Collection
) -> None:
    generation, image = generate(catalog, editor, generated)
    client = Client()
    client.force_login(editor)
    html = edit_page(client, image)
    assert "Generated with BabySea" in html
    assert PROMPT in html
    assert IMAGE_MODEL in html
    assert generation.provider_used
    assert generation.provider_used in html
    charged = generation.cost_charged
    assert charged is not None
    assert f"{charged.normalize()} credits" in html
    assert f'data-babysea-generation="{generation.pk}"' in html
    # Still Wagtail's page: its form and focal point chooser are there.
    assert 'id="w-editor-form"' in html
    assert "focal-point-chooser" in html


def test_a_generation_link_only_for_who_may_open_it(
    catalog: Sandbox, editor: Any, generated: Collection
) -> None:
    from django.contrib.auth import get_user_model

    generation, image = generate(catalog, editor, generated)
    admin = get_user_model().objects.create_superuser("admin", password="pw")
    client = Client()
    client.force_login(admin)
    html = edit_page(client, image)
    from wagtail.admin.admin_url_finder import AdminURLFinder

    url = AdminURLFinder(admin).get_edit_url(generation)
    if url is None:  # no admin page for generations on this site: no link
        assert "View the generation" not in html
    else:
        assert f'href="{url}"' in html


def test_an_image_uploaded_by_hand_has_no_generation_panel(
    editor: Any, generated: Collection
) -> None:
    from PIL import Image as Pillow

    buffer = io.BytesIO()
    Pillow.new("RGB", (64, 48), "teal").save(buffer, "PNG")
    image = Image(title="By hand", collection=generated)
    image.file = ImageFile(buffer, name="by-hand.png")
    image._set_image_file_metadata()
    image.save()
    client = Client()
    client.force_login(editor)
    html = edit_page(client, image)
    assert "Generated with BabySea" not in html


@pytest.fixture
def fast_passwords() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.mark.browser
@pytest.mark.urls("tests.wagtail.library.urls")
def test_the_edit_page_in_a_browser(
    fast_passwords: None,
    browser: Browser,
    live_site: LiveSite,
    screenshot_dir: Path,
    catalog: Sandbox,
    editor: Any,
    generated: Collection,
) -> None:
    _, image = generate(catalog, editor, generated)
    editor.set_password("pw")
    editor.save()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{live_site.url}/cms/login/?next=/cms/")
        page.fill("#id_username", editor.get_username())
        page.fill("#id_password", "pw")
        with page.expect_navigation():
            page.click("form [type=submit]")
        live_site.settle()
        page.goto(f"{live_site.url}{reverse('wagtailimages:edit', args=[image.pk])}")
        panel = page.locator(".babysea-image-generation")
        panel.wait_for()
        assert PROMPT in panel.inner_text()
        assert IMAGE_MODEL in panel.inner_text()
        # The image itself is shown (Wagtail's rendition, served from the test storage).
        preview = page.locator(".focal-point-chooser img").first
        assert preview.evaluate("img => img.complete && img.naturalWidth > 0")
        take_screenshot(page, screenshot_dir, "wagtail-image-generation")
    finally:
        context.close()
        live_site.settle()


def take_screenshot(page: Any, directory: Path, name: str) -> None:
    """As tests/browser's ``screenshot``: into the run's directory, and into
    ``docs/screenshots/`` when ``BABYSEA_SCREENSHOTS`` is set."""
    path = directory / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    if os.environ.get("BABYSEA_SCREENSHOTS"):
        DOCS_SCREENSHOTS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
