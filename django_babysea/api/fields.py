"""The API's choice fields: one class per choice set.

A class of its own gives each set a name in the OpenAPI schema (``BabySeaGenerationKind``, …,
see :mod:`.components`) that does not depend on the site's schema settings: drf-spectacular
would otherwise name them ``KindEnum``, ``StatusEnum`` … and they could collide with the site's.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers  # type: ignore[import-untyped]

from django_babysea.models import GenerationKind, GenerationStatus, OutputState

__all__ = ["GenerationKindField", "GenerationStatusField", "OutputStateField"]


class GenerationKindField(serializers.ChoiceField):  # type: ignore[misc]
    """``image`` or ``video``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(GenerationKind.choices, **kwargs)


class GenerationStatusField(serializers.ChoiceField):  # type: ignore[misc]
    """A generation's status, in lifecycle order (``created`` is local: not yet accepted)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(GenerationStatus.choices, **kwargs)


class OutputStateField(serializers.ChoiceField):  # type: ignore[misc]
    """Where the copy of an output file to the site's storage stands."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(OutputState.choices, **kwargs)
