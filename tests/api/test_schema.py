"""The API's OpenAPI 3 schema (drf-spectacular): valid, named ``BabySea…`` whatever the site's
schema settings, every error documented, served at ``schema/``; and the API without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.urls import include, path, reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.settings import patched_settings
from openapi_spec_validator import validate
from rest_framework import serializers  # type: ignore[import-untyped]
from rest_framework.response import Response  # type: ignore[import-untyped]
from rest_framework.test import APIClient  # type: ignore[import-untyped]
from rest_framework.views import APIView  # type: ignore[import-untyped]

from django_babysea.api.schema import BabySeaSchemaGenerator
from django_babysea.models import Generation, GenerationStatus
from django_babysea.sandbox import Sandbox

from .conftest import MODEL, PROMPT, url

ROOT = Path(__file__).resolve().parents[2]
API = "/babysea/api/"
#: What drf-spectacular does with a site's settings that changes component names.
HOST_SETTINGS = [
    {},
    {"COMPONENT_SPLIT_REQUEST": True, "OAS_VERSION": "3.1.0"},
    {"POSTPROCESSING_HOOKS": []},
    {
        "ENUM_NAME_OVERRIDES": {"Status": ["created", "pending"]},
        "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    },
]


class HostStatusSerializer(serializers.Serializer):  # type: ignore[misc]
    """A site's own component, with names and an enum field like the API's."""

    status = serializers.ChoiceField(["draft", "live"])
    kind = serializers.ChoiceField(["page", "post"])


class HostGenerationView(APIView):  # type: ignore[misc]
    """A site's own endpoint, described with the site's inspector."""

    schema = AutoSchema()

    def get(self, request: Any) -> Response:
        return Response({})

    def get_serializer(self, *args: Any, **kwargs: Any) -> HostStatusSerializer:
        return HostStatusSerializer()


HOST_PATTERNS = [
    path("site/generation/", HostGenerationView.as_view()),
    path("babysea/", include("django_babysea.urls")),
]


def _schema(generator: Any = BabySeaSchemaGenerator, **settings: Any) -> dict[str, Any]:
    with patched_settings(settings):
        document = generator(patterns=HOST_PATTERNS).get_schema(request=None, public=True)
    # The schema as a client reads it (JSON: no Python-only types left).
    return dict(json.loads(json.dumps(document, default=str)))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return _schema()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for route, methods in document["paths"].items():
        for method, operation in methods.items():
            yield route, method.upper(), operation


def component_names(document: dict[str, Any]) -> list[str]:
    """Every component except the security schemes, which are the site's own authentication
    (session, token…), shared with the site's schema on purpose."""
    return [
        name
        for section, entries in document.get("components", {}).items()
        if section != "securitySchemes"
        for name in entries
    ]


@pytest.mark.parametrize(
    "settings", HOST_SETTINGS, ids=["defaults", "split-3.1", "no-hooks", "overrides"]
)
def test_the_schema_is_valid_openapi_with_only_babysea_names(settings: dict[str, Any]) -> None:
    document = _schema(**settings)
    validate(document)
    assert document["openapi"] == settings.get("OAS_VERSION", "3.0.3")
    names = component_names(document)
    assert "BabySeaGeneration" in names or "BabySeaGenerationRequest" in names
    assert [name for name in names if not name.startswith("BabySea")] == []
    assert {route for route, _, _ in operations(document)} == {
        f"{API}generations/",
        f"{API}generations/{{id}}/",
        f"{API}generations/{{id}}/cancel/",
        f"{API}generations/{{id}}/status/",
        f"{API}models/",
        f"{API}estimate/",
        f"{API}budget/",
    }


@pytest.mark.parametrize(
    "schema_class",
    ["rest_framework.schemas.openapi.AutoSchema", "drf_spectacular.openapi.AutoSchema"],
)
def test_names_survive_in_the_sites_own_schema(schema_class: str) -> None:
    """The site's schema of all its endpoints, whatever its ``DEFAULT_SCHEMA_CLASS``: the
    API's components keep their names beside the site's ``StatusEnum`` and ``KindEnum``."""
    with override_settings(REST_FRAMEWORK={"DEFAULT_SCHEMA_CLASS": schema_class}):
        document = _schema(SchemaGenerator)
    validate(document)
    names = component_names(document)
    assert {"HostStatus", "StatusEnum", "KindEnum"} <= set(names)
    ours = {name for name in names if name.startswith("BabySea")}
    assert ours == {name for name in component_names(_schema()) if name.startswith("BabySea")}
    host = document["components"]["schemas"]
    assert host["StatusEnum"]["enum"] == ["draft", "live"]  # not merged with the API's statuses
    assert "/site/generation/" in document["paths"]
    assert all(
        op["operationId"].startswith("babysea_")
        for r, _, op in operations(document)
        if r.startswith(API)
    )


def test_the_api_schema_leaves_the_sites_endpoints_out(document: dict[str, Any]) -> None:
    assert not [route for route in document["paths"] if not route.startswith(API)]
    assert not [name for name in component_names(document) if name.startswith("Host")]


def test_the_create_body_is_one_of_an_image_and_a_video_request(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    body = document["paths"][f"{API}generations/"]["post"]["requestBody"]
    assert list(body["content"]) == ["application/json"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BabySeaSubmission"
    }
    submission = schemas["BabySeaSubmission"]
    image, video = (
        {"$ref": f"#/components/schemas/BabySea{kind}Submission"} for kind in ("Image", "Video")
    )
    assert submission["oneOf"] == [image, video]
    assert submission["discriminator"] == {
        "propertyName": "kind",
        "mapping": {"image": image["$ref"], "video": video["$ref"]},
    }
    image_fields, video_fields = (
        schemas["BabySeaImageSubmission"],
        schemas["BabySeaVideoSubmission"],
    )
    assert set(image_fields["required"]) == {"kind", "model", "generation_prompt"}
    assert set(video_fields["required"]) == {
        "kind",
        "model",
        "generation_prompt",
        "generation_duration",
    }
    assert "generation_duration" not in image_fields["properties"]
    assert {"generation_generate_audio", "generation_input_file_last_content"} <= set(
        video_fields["properties"]
    )
    for fields, kind in ((image_fields, "Image"), (video_fields, "Video")):
        assert fields["properties"]["kind"]["allOf"] == [
            {"$ref": f"#/components/schemas/BabySea{kind}Kind"}
        ]
        assert "additionalProperties" in fields  # the model's own generation_* fields
    assert schemas["BabySeaImageKind"]["enum"] == ["image"]
    assert schemas["BabySeaVideoKind"]["enum"] == ["video"]


def test_every_operation_documents_its_errors(document: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/BabySeaError"}
    assert set(document["components"]["schemas"]["BabySeaError"]["required"]) == {"code", "detail"}
    seen = {}
    for route, method, operation in operations(document):
        responses = operation["responses"]
        failures = {code for code in responses if int(code) >= 400}
        assert {"401", "403", "429"} <= failures, (method, route)
        for code in failures:
            assert responses[code]["content"]["application/json"]["schema"] == error
            assert responses[code]["description"]
        assert responses["429"]["headers"]["Retry-After"]["required"] is True
        assert "500" not in responses
        seen[operation["operationId"]] = failures
    assert seen["babysea_generations_create"] == {
        "400",
        "401",
        "402",
        "403",
        "409",
        "429",
        "502",
        "503",
    }
    assert {"404", "409"} <= seen["babysea_generations_cancel"]
    assert "404" in seen["babysea_generations_status"]
    assert "503" in seen["babysea_models_list"]


def test_headers_idempotency_key_and_etag(document: dict[str, Any]) -> None:
    create = document["paths"][f"{API}generations/"]["post"]
    (key,) = [p for p in create["parameters"] if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key"
    assert key["schema"]["pattern"] == "^[A-Za-z0-9_\\-:.]{1,200}$"
    assert {"200", "201"} <= set(create["responses"])

    poll = document["paths"][f"{API}generations/{{id}}/status/"]["get"]
    assert [p["name"] for p in poll["parameters"] if p["in"] == "header"] == ["If-None-Match"]
    (generation_id,) = [p for p in poll["parameters"] if p["in"] == "path"]
    assert generation_id["name"] == "id"
    assert generation_id["schema"] == {"type": "string", "format": "uuid"}
    assert "content" not in poll["responses"]["304"]
    for code in ("200", "304"):
        assert poll["responses"][code]["headers"]["ETag"]["required"] is True


def test_enums_are_named_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    generation = schemas["BabySeaGeneration"]["properties"]
    assert generation["status"]["allOf"] == [{"$ref": "#/components/schemas/BabySeaStatus"}]
    assert generation["kind"]["allOf"] == [{"$ref": "#/components/schemas/BabySeaKind"}]
    assert schemas["BabySeaStatus"]["enum"] == list(GenerationStatus.values)
    assert "stored" in schemas["BabySeaOutputState"]["enum"]
    page = schemas["BabySeaGenerationPage"]
    assert page["properties"]["results"]["items"] == {
        "$ref": "#/components/schemas/BabySeaGeneration"
    }


# -- the schema route ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_route_serves_the_api_schema() -> None:
    client = APIClient()
    schema_url = reverse("django_babysea:api-schema")
    assert schema_url == f"{API}schema/"
    response = client.get(schema_url, {"format": "json"})
    assert response.status_code == 200
    document = json.loads(response.content)
    validate(document)
    assert document["info"]["title"] == "BabySea API"
    assert {route.removeprefix(API) for route in document["paths"]} >= {"generations/", "budget/"}
    assert f"{API}schema/" not in document["paths"]
    yaml = client.get(schema_url)
    assert yaml.status_code == 200
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"BabySeaSubmission" in yaml.content


# -- the create body's kind ---------------------------------------------------------------------


def _submit(client: APIClient, **body: Any) -> Any:
    return client.post(
        url("generations"), {"model": MODEL, "generation_prompt": PROMPT, **body}, format="json"
    )


@pytest.mark.django_db(transaction=True)
def test_kind_must_be_the_models_kind(catalog: Sandbox, alice_client: APIClient) -> None:
    response = _submit(alice_client, kind="image")
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "image"
    assert Generation.objects.get().request == {"generation_prompt": PROMPT}

    wrong = _submit(alice_client, kind="video", generation_duration=5)
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {"kind": [f"{MODEL} makes images, not videos."]}
    for bad in ("picture", ["image"], None):
        answer = _submit(alice_client, kind=bad)
        assert answer.status_code == 400
        assert answer.json()["errors"] == {"kind": ["Choose image or video."]}
    assert Generation.objects.count() == 1


# -- without drf-spectacular --------------------------------------------------------------------

WITHOUT_SPECTACULAR = textwrap.dedent(
    """
    import sys
    sys.modules["drf_spectacular"] = None  # as if it were not installed: imports fail
    import django
    from django.test.utils import setup_test_environment
    from django.urls import NoReverseMatch, reverse
    django.setup()
    setup_test_environment()
    from django.test import Client
    from django_babysea.api.views import GenerationListView

    assert reverse("django_babysea:babysea-api-generations") == "/babysea/api/generations/"
    try:
        reverse("django_babysea:api-schema")
    except NoReverseMatch:
        pass
    else:
        raise AssertionError("schema/ is routed without drf-spectacular")
    client = Client()
    answer = client.get("/babysea/api/generations/")
    print(answer.status_code, answer.json()["code"], client.get("/babysea/api/schema/").status_code)
    print(type(GenerationListView().schema).__module__)
    loaded = [name for name, module in sys.modules.items() if module is not None]
    assert not [name for name in loaded if name.startswith("drf_spectacular")]
    """
)


def test_the_api_works_without_drf_spectacular() -> None:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_SPECTACULAR],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "403 not_authenticated 404",
        "rest_framework.schemas.openapi",
    ]
