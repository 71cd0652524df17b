"""Generations as rows in the real database, and pages that render them with a request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.template import Context, RequestContext, Template
from django.test import RequestFactory

from django_babysea.models import Generation, GenerationOutput, OutputState

PROMPT = "A harbor seal pup asleep on a snowy ice floe"
BABYSEA_URL = "https://cdn.us.babysea.ai/outputs/0.png"


def stored(index: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "index": index,
        "state": OutputState.STORED,
        "name": f"babysea/seal/{index}.png",
        "width": 1024,
        "height": 768,
        "content_type": "image/png",
        **fields,
    }


@pytest.fixture
def make_generation(db: None) -> Callable[..., Generation]:
    def make(
        *outputs: dict[str, Any], status: str = "pending", kind: str = "image", **fields: Any
    ) -> Generation:
        generation = Generation.objects.create(
            kind=kind,
            model_identifier="bfl/flux-schnell",
            prompt=PROMPT,
            status=status,
            request={"generation_ratio": "16:9"},
            **fields,
        )
        for output in outputs:
            GenerationOutput.objects.create(
                generation=generation, source_url=BABYSEA_URL, storage="default", **output
            )
        return generation

    return make


def page(source: str, *, request: bool = True, **context: Any) -> str:
    """``source`` rendered as a page is: with a request (``RequestContext``), or without."""
    template = Template("{% load babysea %}" + source)
    if request:
        return template.render(RequestContext(RequestFactory().get("/page/"), context))
    return template.render(Context(context))
