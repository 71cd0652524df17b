"""Rendering reads the database only: no storage I/O, and a constant number of queries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.services.media import with_media

from .conftest import NoFileAccessStorage, render, stored

Make = Callable[..., Generation]
PAGE = (
    "{% for g in page %}{% babysea_media g img_class='card' %}{{ g|babysea_url }}"
    "{% babysea_absolute_url g %}{% endfor %}"
)


def test_the_storage_is_never_opened(make_generation: Make) -> None:
    # The storages of the test settings (conftest) raise on every call but url().
    with pytest.raises(AssertionError, match="touched the storage"):
        NoFileAccessStorage().exists("x")
    make_generation(stored(), stored(1))
    make_generation(stored(ext="mp4"), kind="video")
    make_generation(stored(state=OutputState.COPYING, name=""))
    make_generation(status="failed")
    html = render(PAGE, page=with_media(Generation.objects.all()))
    assert html.count("/files/babysea/seal/0.") == 6
    assert "babysea-placeholder--storing" in html
    assert "babysea-placeholder--failed" in html


def _page(make_generation: Make, count: int) -> tuple[str, int]:
    Generation.objects.all().delete()
    for n in range(count):
        if n % 3 == 0:
            make_generation(stored(), stored(1))
        elif n % 3 == 1:
            make_generation(stored(ext="mp4"), kind="video")
        else:
            make_generation(status="pending", request={"generation_ratio": "16:9"})
    with CaptureQueriesContext(connection) as queries:
        html = render(PAGE, page=with_media(Generation.objects.all()))
    return html, len(queries)


def test_constant_queries_with_the_prefetch_helper(make_generation: Make) -> None:
    html_10, queries_10 = _page(make_generation, 10)
    html_100, queries_100 = _page(make_generation, 100)
    assert html_10.count("<img ") == 4
    assert html_100.count("<img ") == 34
    assert queries_10 == queries_100 == 2  # the generations, then all their outputs


def test_without_the_helper_each_row_queries(make_generation: Make) -> None:
    _, prefetched = _page(make_generation, 10)
    with CaptureQueriesContext(connection) as queries:
        render(PAGE, page=Generation.objects.all())
    assert prefetched < len(queries)


def test_a_page_of_outputs(make_generation: Make) -> None:
    for _ in range(5):
        make_generation(stored(), stored(1))
    with CaptureQueriesContext(connection) as queries:
        html = render(PAGE, page=with_media(GenerationOutput.objects.all()))
    assert html.count("<img ") == 10
    assert len(queries) == 1
