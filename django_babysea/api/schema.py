"""The API's OpenAPI 3 schema (drf-spectacular; only imported when it is installed).

Every operation is described here, in one table: its body, its answers (each error status with
the :class:`~.components.ErrorSerializer` body) and its headers. :class:`BabySeaAutoSchema` is
the inspector of every API view (see :class:`.openapi.BabySeaSchema`), so the site's own
``DEFAULT_SCHEMA_CLASS`` and extensions do not change what the API says of itself.
:class:`BabySeaSchemaView` serves a schema of the API alone, at ``schema/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from drf_spectacular.generators import (
    EndpointEnumerator,
    SchemaGenerator,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
)
from drf_spectacular.views import SpectacularAPIView

from django_babysea import __version__

from .account import BudgetView, EstimateView
from .components import (
    BudgetSerializer,
    CatalogSerializer,
    ErrorSerializer,
    EstimateSerializer,
    PollSerializer,
    submission,
)
from .serializers import GenerationSerializer
from .submit import CLIENT_KEY
from .views import (
    BabySeaAPIView,
    GenerationCancelView,
    GenerationDetailView,
    GenerationListView,
    GenerationStatusView,
    ModelListView,
)

__all__ = ["OPERATIONS", "BabySeaAutoSchema", "BabySeaSchemaView"]

HEADER: Final = OpenApiParameter.HEADER

#: What each error status means, as the docs' error table says.
ERRORS: Final[dict[int, str]] = {
    400: "`invalid`: a bad body, field, query parameter or header (`errors` names each).",
    401: "`not_authenticated`: no user, with an authentication scheme that asks for one.",
    402: "`insufficient_credits`: BabySea refused the create (the generation is `failed`).",
    403: "`not_authenticated` (session authentication) or `permission_denied`.",
    404: "`not_found`: no such generation, or one the user may not see.",
    409: "A conflict: `idempotency_conflict`, `not_cancelable`, `not_deletable` or `not_sent`.",
    429: "`budget_exceeded`, `rate_limited`, `concurrency_limit` or `throttled`: wait "
    "`Retry-After` seconds.",
    502: "`refused`: BabySea refused the create for another reason (the generation is `failed`).",
    503: "`babysea_unavailable` or `catalog_unavailable`: try again later.",
}
#: Every operation may answer these (authentication, permission, throttling).
COMMON: Final = (401, 403, 429)


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(ErrorSerializer, description=ERRORS[status])
        for status in sorted({*statuses, *COMMON})
    }


RETRY_AFTER: Final = (
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        HEADER,
        required=True,
        description="Seconds to wait before trying again.",
        response=[429],
    ),
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        HEADER,
        description="Seconds to wait before trying again, when known.",
        response=[503],
    ),
)
GENERATION_ID: Final = OpenApiParameter(
    "id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The local generation's `id` (not BabySea's `generation_id`).",
)
IDEMPOTENCY_KEY: Final = OpenApiParameter(
    "Idempotency-Key",
    str,
    HEADER,
    pattern=f"^{CLIENT_KEY.pattern}$",
    description="Send the same key again to get the generation it created (200) instead of "
    "a new one; kept per user. The same key with another body is a 409.",
)
ETAG: Final = OpenApiParameter(
    "ETag",
    str,
    HEADER,
    required=True,
    description="The status body's tag: send it back as `If-None-Match`.",
    response=[200, 304],
)
IF_NONE_MATCH: Final = OpenApiParameter(
    "If-None-Match",
    str,
    HEADER,
    description="The `ETag` of the last answer: a 304 without a body while nothing changed.",
)


def _query(name: str, kind: Any, description: str, **more: Any) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description, **more)


ESTIMATE_QUERY: Final = (
    _query("model", str, "The model's `model_identifier`.", required=True),
    _query("count", OpenApiTypes.INT, "How many outputs (1 or more)."),
    _query("duration", OpenApiTypes.INT, "Video seconds (1 or more)."),
    _query("resolution", str, "A resolution of the model."),
    _query("audio", OpenApiTypes.BOOL, "With sound (video models that can make it)."),
)
SUBMIT_EXAMPLE: Final = OpenApiExample(
    "An image",
    value={"kind": "image", "model": "bfl/flux-schnell", "generation_prompt": "A harbor seal"},
    request_only=True,
)


@dataclass(frozen=True)
class Operation:
    """What the schema says of one method of one view."""

    name: str
    summary: str
    description: str
    responses: dict[int, Any]
    request: Any = None
    parameters: tuple[OpenApiParameter, ...] = ()
    examples: tuple[OpenApiExample, ...] = ()


def _generation(description: str) -> OpenApiResponse:
    return OpenApiResponse(GenerationSerializer, description=description)


OPERATIONS: Final[dict[tuple[type[BabySeaAPIView], str], Operation]] = {
    (GenerationListView, "GET"): Operation(
        "babysea_generations_list",
        "The user's generations, newest first",
        "Paginated and filtered; staff with `view_generation` see everyone's.",
        {200: GenerationSerializer, **_errors(400, 404)},
    ),
    (GenerationListView, "POST"): Operation(
        "babysea_generations_create",
        "Submit a generation",
        "The body is checked against the cached catalog, then sent to BabySea once per "
        "`Idempotency-Key`. The generation belongs to the requesting user.",
        {
            201: _generation("Created and sent to BabySea."),
            200: _generation("The generation this `Idempotency-Key` created before."),
            **_errors(400, 402, 409, 502, 503),
        },
        request={"application/json": submission()},
        parameters=(IDEMPOTENCY_KEY,),
        examples=(SUBMIT_EXAMPLE,),
    ),
    (GenerationDetailView, "GET"): Operation(
        "babysea_generations_retrieve",
        "One generation",
        "With its outputs; an output's `url` is its copy in the site's storage.",
        {200: GenerationSerializer, **_errors(404)},
        parameters=(GENERATION_ID,),
    ),
    (GenerationDetailView, "DELETE"): Operation(
        "babysea_generations_destroy",
        "Delete the files of a finished generation, at BabySea and here",
        "The generation stays, with `removed` true.",
        {200: _generation("Deleted: `removed` is true."), **_errors(400, 404, 409, 503)},
        parameters=(GENERATION_ID,),
    ),
    (GenerationCancelView, "POST"): Operation(
        "babysea_generations_cancel",
        "Cancel a generation",
        "At BabySea too once BabySea accepted it.",
        {200: _generation("Canceled."), **_errors(400, 404, 409, 503)},
        parameters=(GENERATION_ID,),
    ),
    (GenerationStatusView, "GET"): Operation(
        "babysea_generations_status",
        "A generation's status, for polling",
        "Reads the database only. Send the `ETag` back as `If-None-Match`: a 304 while "
        "nothing changed.",
        {
            200: PollSerializer,
            304: OpenApiResponse(description="Not modified since the `If-None-Match` tag."),
            **_errors(404),
        },
        parameters=(GENERATION_ID, IF_NONE_MATCH, ETAG),
    ),
    (ModelListView, "GET"): Operation(
        "babysea_models_list",
        "The cached model catalog",
        "Fetched again when older than `CATALOG_TTL`; a stale copy is served while BabySea "
        "cannot be reached.",
        {200: CatalogSerializer, **_errors(503)},
    ),
    (EstimateView, "GET"): Operation(
        "babysea_estimate",
        "BabySea's cost estimate (no credits used)",
        "For `count` outputs (and, for a video, `duration` seconds at `resolution`).",
        {200: EstimateSerializer, **_errors(400, 503)},
        parameters=ESTIMATE_QUERY,
    ),
    (BudgetView, "GET"): Operation(
        "babysea_budget",
        "The user's budget today",
        "`limit` and `remaining` are null when `USER_DAILY_BUDGET` is not set.",
        {200: BudgetSerializer, **_errors()},
    ),
}


class BabySeaAutoSchema(AutoSchema):
    """drf-spectacular's inspector, reading each operation from :data:`OPERATIONS`."""

    def _operation(self) -> Operation | None:
        return OPERATIONS.get((type(self.view), self.method))

    def get_operation_id(self) -> str:
        operation = self._operation()
        return operation.name if operation else str(super().get_operation_id())

    def get_description(self) -> str:
        operation = self._operation()
        return operation.description if operation else str(super().get_description())

    def get_summary(self) -> str | None:
        operation = self._operation()
        return operation.summary if operation else super().get_summary()

    def get_tags(self) -> list[str]:
        return ["babysea"]

    def get_request_serializer(self) -> Any:
        operation = self._operation()
        return operation.request if operation else super().get_request_serializer()

    def get_response_serializers(self) -> Any:
        operation = self._operation()
        return operation.responses if operation else super().get_response_serializers()

    def get_override_parameters(self) -> list[Any]:
        operation = self._operation()
        extra = [*operation.parameters, *RETRY_AFTER] if operation else []
        return [*super().get_override_parameters(), *extra]

    def get_examples(self) -> list[OpenApiExample]:
        operation = self._operation()
        return [*super().get_examples(), *(operation.examples if operation else ())]

    def get_paginated_name(self, serializer_name: str) -> str:
        return f"{serializer_name}Page"


class _APIEndpoints(EndpointEnumerator):
    """Only the API's own endpoints, wherever the site mounted them."""

    def should_include_endpoint(self, path: str, callback: Any) -> bool:
        view = getattr(callback, "cls", None)
        is_ours = isinstance(view, type) and issubclass(view, BabySeaAPIView)
        return is_ours and bool(super().should_include_endpoint(path, callback))


class BabySeaSchemaGenerator(SchemaGenerator):
    endpoint_inspector_cls = _APIEndpoints


class BabySeaSchemaView(SpectacularAPIView):
    """The schema of the BabySea API alone (the site's other endpoints are left out), as YAML,
    or JSON with ``?format=json`` or ``Accept: application/vnd.oai.openapi+json``."""

    generator_class = BabySeaSchemaGenerator
    # Never an operation of any schema, the site's included, whatever its DEFAULT_SCHEMA_CLASS.
    schema = None
    custom_settings: dict[str, Any] | None = {  # noqa: RUF012 (read only)
        "TITLE": "BabySea API",
        "DESCRIPTION": "Generations of images and videos with BabySea, as site media.",
        "VERSION": __version__,
    }
