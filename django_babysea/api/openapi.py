"""How the API's views describe themselves to a schema generator, with or without
drf-spectacular installed (the ``openapi`` extra). Imports nothing from drf-spectacular."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from rest_framework.schemas.inspectors import (  # type: ignore[import-untyped]
    DefaultSchema,
    ViewInspector,
)

__all__ = ["BabySeaSchema", "spectacular_installed"]


def spectacular_installed() -> bool:
    return find_spec("drf_spectacular") is not None


class BabySeaSchema(DefaultSchema):  # type: ignore[misc]
    """The views' ``schema``: with drf-spectacular installed, the API's own inspector
    (:class:`.schema.BabySeaAutoSchema`), whatever ``DEFAULT_SCHEMA_CLASS`` the site set, so
    the BabySea components keep their names in any site's schema; without it, DRF's default."""

    def __get__(self, instance: Any, owner: Any) -> Any:
        result = ViewInspector.__get__(self, instance, owner)
        if not isinstance(result, BabySeaSchema):  # one set on this view by a generator
            return result
        if not spectacular_installed():
            return super().__get__(instance, owner)
        from .schema import BabySeaAutoSchema  # only importable with drf-spectacular

        inspector = BabySeaAutoSchema()
        inspector.view = instance
        return inspector
