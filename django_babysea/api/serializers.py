"""What the API reads and writes. Output URLs come from the site's storage at render time;
BabySea's own (expiring) URLs are never shown."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers  # type: ignore[import-untyped]

from django_babysea.models import CatalogModel, Generation, GenerationOutput

__all__ = [
    "CatalogModelSerializer",
    "GenerationSerializer",
    "OutputSerializer",
    "status_payload",
]


class OutputSerializer(serializers.ModelSerializer):  # type: ignore[misc]
    url = serializers.SerializerMethodField()

    class Meta:
        model = GenerationOutput
        fields = ("index", "state", "url", "content_type", "size", "width", "height")
        read_only_fields = fields

    def get_url(self, output: GenerationOutput) -> str | None:
        return output.url


class GenerationSerializer(serializers.ModelSerializer):  # type: ignore[misc]
    model = serializers.CharField(source="model_identifier", read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)
    outputs = OutputSerializer(many=True, read_only=True)

    class Meta:
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
    class Meta:
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


def status_payload(generation: Generation) -> dict[str, Any]:
    """The small body polled by clients: status, error and stored outputs with their URLs."""
    return {
        "id": str(generation.pk),
        "status": generation.status,
        "error_code": generation.error_code,
        "error_message": generation.error_message,
        "outputs": [
            {
                "index": output.index,
                "url": output.url,
                "content_type": output.content_type,
                "width": output.width,
                "height": output.height,
            }
            for output in generation.outputs.all()
            if output.is_stored
        ],
    }
