"""What the create view checks of the body before the submit: a model identifier the database
can store, and the optional ``kind`` (the discriminator of the OpenAPI schema's
``BabySeaSubmission``: an image or a video request), which must be the model's own kind."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

from django_babysea.models import CatalogModel, GenerationKind
from django_babysea.services import catalog_is_fresh, load_catalog
from django_babysea.services.validation import check_model_identifier

from .errors import ApiError

__all__ = ["check_model", "take_kind"]


def _invalid(message: str, field: str = "kind") -> ApiError:
    return ApiError(400, "invalid", "The request is not valid.", errors={field: [message]})


def check_model(data: Any) -> None:
    """A ``model`` text the catalog lookup can search for (no NUL character, not too long):
    PostgreSQL refuses a NUL in a query, which would be a 500."""
    model = data.get("model") if isinstance(data, dict) else None
    if isinstance(model, str) and model.strip():
        try:
            check_model_identifier(model)
        except ValueError as exc:
            raise _invalid(str(exc), "model") from None


def take_kind(data: Any) -> None:
    """Check ``kind`` against the model's kind in the catalog and remove it from the JSON body
    (the rest of the body is BabySea's fields). A model not in the catalog is left to the
    submit's own check, which names it."""
    if not isinstance(data, dict) or isinstance(data, QueryDict) or "kind" not in data:
        return  # a form body is immutable: its `kind` is refused as an unknown field
    kind = data.pop("kind")
    if not isinstance(kind, str) or kind not in GenerationKind.values:
        raise _invalid("Choose image or video.")
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        return
    if not catalog_is_fresh():
        load_catalog()
    actual = (
        CatalogModel.objects.filter(model_identifier=model.strip(), available=True)
        .values_list("kind", flat=True)
        .first()
    )
    if actual is not None and actual != kind:
        raise _invalid(f"{model.strip()[:200]} makes {actual}s, not {kind}s.")
