"""Schemathesis against the live test server and a sandbox: whatever the schema allows, the API
answers without a 5xx of its own, with a status, headers and a body the schema documents.

Bounded and derandomized (the same examples on every run) so CI stays fast and stable.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox
from tests.live import watching

from .conftest import MODEL, finished, running, url

pytestmark = pytest.mark.django_db(transaction=True)

API = "/babysea/api/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Examples per strategy: enough to reach every branch the schema opens, few enough for CI.
EXAMPLES = 25
VIDEO_MODEL = "google/veo-2"


class Session:
    """A logged-in user's cookies and CSRF header, as a browser front end sends them."""

    def __init__(self, user: Any) -> None:
        client = Client()
        client.force_login(user)
        token = secrets.token_hex(16)  # a CSRF secret: 32 alphanumeric characters
        self.cookies = {
            settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
            settings.CSRF_COOKIE_NAME: token,
        }
        self.headers = {"X-CSRFToken": token}


def run(strategy: Any, call: Callable[[Case], None]) -> None:
    """``call`` on each example of ``strategy``, under hypothesis (which shrinks a failure)."""

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def each(case: Case) -> None:
        call(case)

    each()


def test_schemathesis_finds_no_server_error(live_server: Any, catalog: Sandbox, alice: Any) -> None:
    catalog.auto_advance = False
    mine = [running(catalog, alice), finished(catalog, alice)]
    schema = schemathesis.openapi.from_url(f"{live_server.url}{API}schema/?format=json")
    session = Session(alice)
    answered: dict[str, set[int]] = {}

    def call(case: Case) -> None:
        response = case.call(
            base_url=live_server.url, headers=session.headers, cookies=session.cookies
        )
        case.validate_response(response, checks=CHECKS)
        answered.setdefault(case.operation.label, set()).add(response.status_code)

    with watching(live_server.url):
        for result in schema.get_all_operations():
            operation = result.ok()
            run(operation.as_strategy(GenerationMode.POSITIVE), call)
            if "{id}" in operation.path:  # real generations too, not only unknown ids
                ids = st.sampled_from([str(generation.pk) for generation in mine])
                run(
                    ids.flatmap(
                        lambda pk, op=operation: op.as_strategy(path_parameters={"id": pk})
                    ),
                    call,
                )
        estimate = schema[f"{API}estimate/"]["GET"]
        for model in (MODEL, VIDEO_MODEL):
            run(estimate.as_strategy(query={"model": model}), call)
        create = schema[f"{API}generations/"]["POST"]
        for body in (
            {"kind": "image", "model": MODEL, "generation_prompt": "A harbor seal pup"},
            {
                "kind": "video",
                "model": VIDEO_MODEL,
                "generation_prompt": "Waves",
                "generation_duration": 5,
            },
        ):
            run(create.as_strategy(body=body), call)

    everything = set().union(*answered.values())
    assert not {code for code in everything if code >= 500}
    assert answered[f"POST {API}generations/"] >= {201, 400}, answered
    assert 200 in answered[f"GET {API}generations/{{id}}/status/"]
    assert 200 in answered[f"GET {API}estimate/"]
    assert 200 in answered[f"GET {API}generations/{{id}}/"]
    assert Generation.objects.filter(owner=alice).count() > len(mine)


# -- what schemathesis found, kept as plain examples -------------------------------------------


@pytest.mark.parametrize(
    "created_after",
    [
        "0348-02-28T23:53:55-23:54",  # PostgreSQL refused the offset: a 500
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    ],
)
def test_a_date_the_database_cannot_take_is_a_400_or_a_utc_instant(
    alice_client: Any, created_after: str
) -> None:
    response = alice_client.get(url("generations"), {"created_after": created_after})
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["errors"] == {"created": ["Enter a valid date/time."]}


@pytest.mark.parametrize("field", ["model", "generation_prompt"])
def test_a_nul_character_is_a_400(catalog: Sandbox, alice_client: Any, field: str) -> None:
    body = {"model": MODEL, "generation_prompt": "A seal", field: "bfl/\x00flux"}
    for kind in ({}, {"kind": "image"}):
        response = alice_client.post(url("generations"), {**body, **kind}, format="json")
        assert response.status_code == 400, response.content
    assert alice_client.get(url("estimate"), {"model": "bfl/\x00"}).status_code == 400
    assert alice_client.get(url("generations"), {"model": "bfl/\x00"}).status_code == 400
