"""The OpenAPI components of the API that no view serializes with: the create body (one shape
per media kind), the error body and the small bodies built as dicts (status, catalog, estimate,
budget). They only describe; they validate nothing.

Only imported with drf-spectacular installed. Every component and enum is named ``BabySea…``
here or by ``Meta.ref_name`` (the name drf-spectacular takes before the class name), so the
names never depend on the site's schema settings nor collide with the site's own components.
"""

from __future__ import annotations

from typing import Any, Final

from django.core.validators import RegexValidator
from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
)
from drf_spectacular.utils import (
    PolymorphicProxySerializer,
    extend_schema_field,
)
from rest_framework import serializers  # type: ignore[import-untyped]

from django_babysea.models import GenerationKind, GenerationStatus, OutputState
from django_babysea.services.catalog import MAX_PROMPT

from .fields import GenerationKindField, GenerationStatusField, OutputStateField
from .serializers import CatalogModelSerializer

__all__ = [
    "BudgetSerializer",
    "CatalogSerializer",
    "ErrorSerializer",
    "EstimateSerializer",
    "PollSerializer",
    "submission",
]


def _enum(name: str, values: list[str], description: str) -> Any:
    """A decorator naming a choice field's enum component ``name``."""
    return extend_schema_field(
        {"type": "string", "enum": values, "description": description}, component_name=name
    )


_enum(
    "BabySeaKind",
    [str(value) for value in GenerationKind.values],
    "The media a generation makes: `image` or `video`.",
)(GenerationKindField)
_enum(
    "BabySeaStatus",
    [str(value) for value in GenerationStatus.values],
    "A generation's status, in lifecycle order. `created`: stored here, not yet accepted by "
    "BabySea; `succeeded`, `failed` and `canceled` are final.",
)(GenerationStatusField)
_enum(
    "BabySeaOutputState",
    [str(value) for value in OutputState.values],
    "Where the copy of an output file to the site's storage stands (`stored`: `url` is set).",
)(OutputStateField)


# -- errors -------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):  # type: ignore[misc]
    """Every error answer: a machine-readable `code` and a `detail` for people."""

    code = serializers.CharField(
        help_text="What went wrong, e.g. `invalid`, `not_found`, `insufficient_credits`, "
        "`idempotency_conflict`, `budget_exceeded`, `rate_limited`, `babysea_unavailable`."
    )
    detail = serializers.CharField(help_text="A message for people.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="400 only: each wrong field (or query parameter, or header) and its messages.",
    )
    id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The local generation a failed submit left behind (it is sent again later).",
    )
    resets_at = serializers.DateTimeField(
        required=False, help_text="`budget_exceeded` only: when today's budget starts again."
    )

    class Meta:
        ref_name = "BabySeaError"


# -- the create body ----------------------------------------------------------------------------


class _KindField(serializers.ChoiceField):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__([self.kind], **kwargs)

    kind: str = ""


@_enum("BabySeaImageKind", ["image"], "An image request.")
class _ImageKindField(_KindField):
    kind = "image"


@_enum("BabySeaVideoKind", ["video"], "A video request.")
class _VideoKindField(_KindField):
    kind = "video"


_KIND_HELP: Final = (
    "The model's kind (see `models/`). It selects the body's shape; a kind that is not the "
    "model's is refused. The API also accepts a body without it."
)


class _Submission(serializers.Serializer):  # type: ignore[misc]
    """Fields every model takes. Model-specific fields (the model's `specific_schema`, all
    starting with `generation_`) may be added; anything else is refused."""

    model = serializers.CharField(
        max_length=200,
        help_text="The model's `model_identifier` from `models/`, e.g. `bfl/flux-schnell`.",
    )
    generation_prompt = serializers.CharField(
        max_length=MAX_PROMPT,
        validators=[RegexValidator(r"\S")],
        help_text="What to generate (not only spaces).",
    )
    generation_ratio = serializers.CharField(
        required=False, help_text="An aspect ratio from the model's `schema`, e.g. `16:9`."
    )
    generation_output_format = serializers.CharField(
        required=False, help_text="A format from the model's `schema`, e.g. `png` or `mp4`."
    )
    generation_output_number = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="How many outputs; at most the model's `generation_output_number`.",
    )
    generation_input_file = serializers.ListField(
        child=serializers.URLField(),
        required=False,
        help_text="Public `https://` URLs of input media, for models that take them.",
    )
    generation_provider_order = serializers.CharField(
        required=False,
        max_length=200,
        help_text="`fastest`, or distinct providers of the model separated by commas.",
    )
    generation_resolution = serializers.CharField(
        required=False, help_text="A resolution from the model's `schema`, for models with any."
    )


class ImageSubmissionSerializer(_Submission):
    """A generation of an image model."""

    kind = _ImageKindField(help_text=_KIND_HELP)

    class Meta:
        ref_name = "BabySeaImageSubmission"


class VideoSubmissionSerializer(_Submission):
    """A generation of a video model."""

    kind = _VideoKindField(help_text=_KIND_HELP)
    generation_duration = serializers.IntegerField(
        min_value=1, help_text="Seconds; one of the model's `generation_duration` values."
    )
    generation_generate_audio = serializers.BooleanField(
        required=False, help_text="With sound, for models that can make it."
    )
    generation_input_file_last_content = serializers.URLField(
        required=False,
        help_text="An `https://` URL of the last frame, for models that take one.",
    )

    class Meta:
        ref_name = "BabySeaVideoSubmission"


class _OpenSubmission(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """The create bodies take the model's own fields besides the documented ones."""

    target_class = _Submission
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        schema["additionalProperties"] = {
            "description": "A model-specific field (in the model's `specific_schema`)."
        }
        return schema


def submission() -> PolymorphicProxySerializer:
    """The create body: an image or a video request, told apart by `kind`."""
    return PolymorphicProxySerializer(
        component_name="BabySeaSubmission",
        serializers={"image": ImageSubmissionSerializer, "video": VideoSubmissionSerializer},
        resource_type_field_name="kind",
        many=False,
    )


# -- bodies built as dicts ----------------------------------------------------------------------


class _PollOutputSerializer(serializers.Serializer):  # type: ignore[misc]
    index = serializers.IntegerField()
    url = serializers.CharField(allow_null=True, help_text="The copy in the site's storage.")
    content_type = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)

    class Meta:
        ref_name = "BabySeaPollOutput"


class PollSerializer(serializers.Serializer):  # type: ignore[misc]
    """The small body of the status endpoint; only stored outputs are listed."""

    id = serializers.UUIDField()
    status = GenerationStatusField()
    error_code = serializers.CharField(allow_blank=True)
    error_message = serializers.CharField(allow_blank=True)
    outputs = _PollOutputSerializer(many=True)

    class Meta:
        ref_name = "BabySeaPoll"


class CatalogSerializer(serializers.Serializer):  # type: ignore[misc]
    """The cached model catalog."""

    stale = serializers.BooleanField(
        help_text="True when the copy is older than `CATALOG_TTL`: BabySea could not be reached."
    )
    error = serializers.CharField(allow_blank=True, help_text="Why, when `stale`.")
    models = CatalogModelSerializer(many=True)

    class Meta:
        ref_name = "BabySeaCatalog"


class EstimateSerializer(serializers.Serializer):  # type: ignore[misc]
    """BabySea's cost estimate, in credits. The per-second fields are set for video models."""

    model_identifier = serializers.CharField()
    model_type = serializers.CharField(help_text="`image` or `video`.")
    assets_count = serializers.IntegerField()
    cost_per_generation = serializers.FloatField()
    cost_total_consumed = serializers.FloatField()
    cost_per_second = serializers.FloatField(allow_null=True)
    duration_seconds = serializers.IntegerField(allow_null=True)
    resolution = serializers.CharField(allow_null=True)
    credit_balance_can_afford = serializers.BooleanField(allow_null=True)

    class Meta:
        ref_name = "BabySeaEstimate"


class BudgetSerializer(serializers.Serializer):  # type: ignore[misc]
    """The user's budget today; amounts in credits as decimal text."""

    limit = serializers.CharField(allow_null=True, help_text="Null without `USER_DAILY_BUDGET`.")
    used = serializers.CharField()
    reserved = serializers.CharField()
    remaining = serializers.CharField(allow_null=True)
    resets_at = serializers.DateTimeField(help_text="The next midnight in the site's time zone.")

    class Meta:
        ref_name = "BabySeaBudget"
