"""The list's ``created_after`` / ``created_before``: ISO 8601, read as UTC instants.

django-filter keeps the offset a client sends, and PostgreSQL refuses some that Python accepts
(``-23:54`` is "out of range" there): a 500. Converted to UTC first, every accepted value is one
the database takes; a value with no UTC equivalent (year 1 minus an hour) is a 400.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters  # type: ignore[import-untyped]
from django.core.exceptions import ValidationError
from django_filters.fields import (  # type: ignore[import-untyped]
    IsoDateTimeField,
    IsoDateTimeRangeField,
    RangeField,
)

from .filters import GenerationFilter

__all__ = ["GenerationListFilter", "UTCDateTimeFromToRangeFilter"]


class UTCDateTimeField(IsoDateTimeField):  # type: ignore[misc]
    def to_python(self, value: Any) -> datetime | None:
        parsed: datetime | None = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UTCDateTimeRangeField(IsoDateTimeRangeField):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # IsoDateTimeRangeField's own __init__ with UTC fields (it takes none as arguments).
        fields = (UTCDateTimeField(), UTCDateTimeField())
        RangeField.__init__(self, fields, *args, **kwargs)


class UTCDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):  # type: ignore[misc]
    field_class = UTCDateTimeRangeField


class GenerationListFilter(GenerationFilter):
    """The list's filters, with ``created`` read as UTC instants."""

    created = UTCDateTimeFromToRangeFilter(field_name="created_at")

    class Meta(GenerationFilter.Meta):
        pass
