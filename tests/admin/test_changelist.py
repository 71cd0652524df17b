"""The generation change list: previews from stored copies, pills, filters, search, and a query
count that does not grow with the rows."""

from __future__ import annotations

import io
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from django_babysea.models import Generation, GenerationOutput, GenerationStatus, OutputState
from tests.admin.conftest import make_staff

pytestmark = pytest.mark.django_db

URL = "/admin/django_babysea/generation/"
BABYSEA_URL = "https://cdn.babysea.example/outputs/"


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def make(
    status: str = GenerationStatus.SUCCEEDED,
    *,
    outputs: list[str] | None = None,
    size: tuple[int, int] = (800, 450),
    **fields: Any,
) -> Generation:
    """A generation with one row per output state in ``outputs``; stored ones get a real file."""
    fields.setdefault("kind", "image")
    fields.setdefault("model_identifier", "bfl/flux-schnell")
    fields.setdefault("prompt", "a lighthouse at dusk")
    generation = Generation.objects.create(
        status=status, generation_id=uuid.uuid4(), cost_reserved=Decimal("0.5"), **fields
    )
    for index, state in enumerate(outputs or []):
        row = GenerationOutput(
            generation=generation,
            index=index,
            source_url=f"{BABYSEA_URL}{generation.generation_id}/{index}.png",
            storage="default",
            state=state,
        )
        if state == OutputState.STORED:
            row.name = default_storage.save(
                f"t/{generation.pk}-{index}.png", ContentFile(png(size))
            )
            row.content_type, row.width, row.height = "image/png", *size
        row.save()
    return generation


def test_renders_previews_pills_and_no_babysea_url(viewer_client: Client) -> None:
    stored = make(outputs=[OutputState.STORED, OutputState.STORED], size=(800, 450))
    make(outputs=[OutputState.PENDING])
    running = make(GenerationStatus.PROCESSING, cost_charged=None)
    video = make(kind="video", outputs=[OutputState.STORED])
    GenerationOutput.objects.filter(generation=video).update(content_type="video/mp4")

    response = viewer_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()

    # The stored copy, scaled into the 64 px box with its aspect ratio, lazily loaded.
    first = stored.outputs.get(index=0)
    img = re.search(r'<img src="([^"]+)" width="(\d+)" height="(\d+)" loading="lazy"', page)
    assert img is not None
    assert img.group(1) == default_storage.url(first.name)
    assert (img.group(2), img.group(3)) == ("64", "36")
    assert "+1" in page  # a second output
    # Placeholders where there is no copy yet (the reason services.media gives), and for videos.
    assert 'babysea-thumb--empty">Not copied yet<' in page
    assert 'babysea-thumb--empty">Not ready<' in page
    assert 'babysea-thumb--empty">Video<' in page
    # Pills; only the unfinished row is live, and it carries the status URL.
    assert 'class="babysea-pill babysea-pill--succeeded"' in page
    live = re.findall(r'data-babysea-live="([^"]+)" data-babysea-status-url="([^"]+)"', page)
    assert live == [(str(running.pk), reverse("admin:django_babysea_generation_status"))]
    # The script and styles are static files, never inline.
    assert "django_babysea/admin/status.js" in page
    assert "django_babysea/admin/generation.css" in page
    # BabySea's expiring URLs never reach the page.
    assert BABYSEA_URL not in page
    assert "babysea.example" not in page


def test_filters_show_facet_counts(viewer_client: Client) -> None:
    make(outputs=[OutputState.STORED])
    make(outputs=[OutputState.FAILED])
    make(GenerationStatus.FAILED)
    plain = viewer_client.get(URL).content.decode()
    # Counting every filter's facets costs a scan per filter: only on request ("Show counts").
    assert "Succeeded (2)" not in plain
    assert "_facets=True" in plain
    page = viewer_client.get(URL, {"_facets": "True"}).content.decode()
    for title in ("By status", "By kind", "By model", "By copy state", "All stored"):
        assert title in page
    assert "Succeeded (2)" in page
    assert "All stored (1)" in page
    assert "Waiting or retrying (1)" in page
    assert "No outputs (1)" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("copy=stored", {"stored"}),
        ("copy=waiting", {"waiting"}),
        ("copy=none", {"nothing"}),
        ("copy=expired", set()),
        ("status=failed", {"nothing"}),
    ],
)
def test_copy_state_filter(viewer_client: Client, query: str, expected: set[str]) -> None:
    rows = {
        "stored": make(outputs=[OutputState.STORED], prompt="stored"),
        "waiting": make(outputs=[OutputState.STORED, OutputState.FAILED], prompt="waiting"),
        "nothing": make(GenerationStatus.FAILED, prompt="nothing"),
    }
    response = viewer_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    shown = {pk for pk in response.context["cl"].result_list.values_list("pk", flat=True)}
    assert shown == {rows[name].pk for name in expected}


def test_search_by_either_id_or_prompt(viewer_client: Client) -> None:
    seal = make(prompt="a seal pup on the ice")
    other = make(prompt="a red fox")

    def found(term: str) -> set[Any]:
        response = viewer_client.get(URL, {"q": term})
        assert response.status_code == 200
        return set(response.context["cl"].result_list.values_list("pk", flat=True))

    assert found("seal pup") == {seal.pk}
    assert found(str(seal.pk)) == {seal.pk}
    assert found(str(other.generation_id)) == {other.pk}
    assert found(str(uuid.uuid4())) == set()
    assert found("12345678-not-a-uuid") == set()


def queries_for_page(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    return len(captured)


def test_query_count_does_not_grow_with_rows(editor_client: Client) -> None:
    def fill(count: int) -> None:
        for n in range(count):
            make(
                [GenerationStatus.SUCCEEDED, GenerationStatus.PROCESSING][n % 2],
                outputs=[OutputState.PENDING, OutputState.FAILED],
                model_identifier=f"model/{n % 7}",
            )

    fill(50)
    at_50 = queries_for_page(editor_client)
    fill(450)
    assert Generation.objects.count() == 500
    at_500 = queries_for_page(editor_client)
    assert at_50 == at_500


@pytest.mark.parametrize(
    ("reserved", "charged", "shown"),
    [
        ("10.000", "10.000", "10"),
        ("0.500", None, "~0.5 (estimated)"),
        (None, None, "—"),
    ],
)
def test_credits_column(
    viewer_client: Client, reserved: str | None, charged: str | None, shown: str
) -> None:
    generation = make()
    Generation.objects.filter(pk=generation.pk).update(
        cost_reserved=reserved and Decimal(reserved), cost_charged=charged and Decimal(charged)
    )
    page = viewer_client.get(URL).content.decode()
    assert f'<td class="field-cost">{shown}</td>' in page


def test_links_to_the_dashboard_for_those_who_may_see_it(editor_client: Client) -> None:
    url = reverse("admin:django_babysea_generation_changelist")
    dashboard = reverse("admin:django_babysea_dashboard_changelist")
    assert f'href="{dashboard}"' in editor_client.get(url).content.decode()
    no_dashboard = make_staff("lister", "view_generation")
    client = Client()
    client.force_login(no_dashboard)
    page = client.get(url)
    assert page.status_code == 200
    assert f'href="{dashboard}"' not in page.content.decode()


def test_previews_follow_the_media_rule(viewer_client: Client) -> None:
    """The cells come from services.media.media_for: the reason when there is nothing to show,
    the prompt as the image's alternative text, a placeholder (not a 500) for a copy whose
    storage alias is gone."""
    make(outputs=[OutputState.STORED], prompt="a heron in the reeds")
    make(GenerationStatus.FAILED)
    make(GenerationStatus.CANCELED)
    gone = make(outputs=[OutputState.STORED])
    GenerationOutput.objects.filter(generation=gone).update(storage="removed-alias")
    page = viewer_client.get(URL).content.decode()
    assert re.search(r'<img src="[^"]+" [^>]*alt="a heron in the reeds">', page)
    assert 'babysea-thumb--empty">Failed<' in page
    assert 'babysea-thumb--empty">Canceled<' in page
    assert 'babysea-thumb--empty">No output<' in page
