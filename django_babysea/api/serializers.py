"""What the API reads and writes. Output URLs come from the site's storage at render time;
BabySea's own (expiring) URLs are never shown."""

from __future__ import annotations

from rest_framework import serializers  # type: ignore[import-untyped]

from django_babysea.models import CatalogModel, Generation, GenerationOutput
from django_babysea.services.status import status_payload

from .fields import GenerationKindField, GenerationStatusField, OutputStateField

__all__ = [
    "CatalogModelSerializer",
    "GenerationSerializer",
    "OutputSerializer",
    "status_payload",
]


# Each serializer's ``Meta.ref_name`` is its name in the OpenAPI schema (see api/schema.py).


class OutputSerializer(serializers.ModelSerializer):  # type: ignore[misc]
    state = OutputStateField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        ref_name = "BabySeaOutput"
        model = GenerationOutput
        fields = ("index", "state", "url", "content_type", "size", "width", "height")
        read_only_fields = fields

    def get_url(self, output: GenerationOutput) -> str | None:
        return output.url


class GenerationSerializer(serializers.ModelSerializer):  # type: ignore[misc]
    kind = GenerationKindField(read_only=True)
    model = serializers.CharField(source="model_identifier", read_only=True)
    status = GenerationStatusField(read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)
    outputs = OutputSerializer(many=True, read_only=True)

    class Meta:
        ref_name = "BabySeaGeneration"
        model = Generation
        fields = (
            "id",
            "generation_id",
            "kind",
            "model",
            "prompt",
            "request",
            "status",
            "provider_used",
            "error_code",
            "error_message",
            "cost_reserved",
            "cost_charged",
            "removed",
            "owner",
            "outputs",
            "created_at",
            "started_at",
            "completed_at",
            "updated_at",
        )
        read_only_fields = fields


class CatalogModelSerializer(serializers.ModelSerializer):  # type: ignore[misc]
    kind = GenerationKindField(read_only=True)

    class Meta:
        ref_name = "BabySeaCatalogModel"
        model = CatalogModel
        fields = (
            "model_identifier",
            "kind",
            "pricing",
            "providers",
            "schema",
            "specific_schema",
            "health",
            "fetched_at",
        )
        read_only_fields = fields
