"""Validation of JSON objects into the frozen result dataclasses, driven by their annotations.

A field without a default is required; a field with a default may be absent (or ``null`` when
its type does not admit ``None``). Supported annotations: ``str``, ``int`` (not ``bool``),
``float`` (any JSON number), ``bool``, ``datetime`` (ISO 8601, made timezone-aware), ``Any``,
``X | Y | None``, ``tuple[X, ...]`` (JSON array), ``dict[str, X]`` (JSON object) and nested
:class:`Record` subclasses. Any mismatch raises :class:`ResponseValidationError` naming the field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Self, TypeVar

from .errors import ResponseValidationError

_CLIENT_SIDE = "client_side"  # metadata flag: the field is filled by the client, not from JSON


#: Metadata of the dataclass fields the client fills itself (``raw``, ``request_id``, ...).
CLIENT_SIDE: Final = MappingProxyType({_CLIENT_SIDE: True})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """Base of every parsed object. ``raw`` is the JSON object exactly as received."""

    raw: dict[str, Any] = dataclasses.field(
        default_factory=dict, repr=False, compare=False, metadata=CLIENT_SIDE
    )

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, request_id: str | None = None) -> Self:
        """Validate ``data`` (a decoded JSON object) and build the record from it."""
        return decode_record(cls, data, "data", request_id)

    def _validate(self) -> None:
        """Cross-field checks of a subclass; raise :class:`ResponseValidationError`."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Result(Record):
    """A record that stands for one API response; ``request_id`` comes from its envelope."""

    request_id: str | None = dataclasses.field(default=None, metadata=CLIENT_SIDE)


R = TypeVar("R", bound=Record)
_Field = tuple[str, Any, bool]  # name, resolved annotation, has a default
_FIELDS: dict[type, list[_Field]] = {}


def _fields(cls: type) -> list[_Field]:
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = [
            (
                f.name,
                hints[f.name],
                f.default is not dataclasses.MISSING
                or f.default_factory is not dataclasses.MISSING,
            )
            for f in dataclasses.fields(cls)
            if not f.metadata.get(_CLIENT_SIDE)
        ]
    return _FIELDS[cls]


_JSON_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "number",
    float: "number",
    type(None): "null",
}


def _mismatch(expected: str, value: object, where: str) -> ResponseValidationError:
    got = _JSON_NAMES.get(type(value), type(value).__name__)
    return ResponseValidationError(f"expected {expected}, got {got}", where=where)


def _describe(tp: Any) -> str:
    if isinstance(tp, type):
        return _JSON_NAMES.get(tp, tp.__name__) if tp is not datetime else "ISO 8601 timestamp"
    return str(tp).replace("typing.", "").replace("datetime.datetime", "datetime")


def decode_record(cls: type[R], data: object, where: str, request_id: str | None = None) -> R:
    if not isinstance(data, Mapping):
        raise _mismatch("object", data, where)
    values: dict[str, Any] = {}
    for name, tp, optional in _fields(cls):
        value = data.get(name)
        if name not in data or (value is None and optional and not _admits_none(tp)):
            if optional:
                continue
            raise ResponseValidationError("required field is missing", where=f"{where}.{name}")
        values[name] = convert(tp, value, f"{where}.{name}", request_id)
    values["raw"] = dict(data)
    if issubclass(cls, Result):
        values["request_id"] = request_id
    record = cls(**values)
    record._validate()
    return record


def _admits_none(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in (
        typing.get_args(tp)
    )


def convert(tp: Any, value: object, where: str, request_id: str | None = None) -> Any:
    """``value`` checked against the annotation ``tp`` (and converted, for numbers/timestamps)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        return _convert_union(tp, value, where, request_id)
    if origin is tuple:
        if not isinstance(value, list):
            raise _mismatch("array", value, where)
        item = typing.get_args(tp)[0]
        return tuple(convert(item, v, f"{where}[{i}]", request_id) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise _mismatch("object", value, where)
        item = typing.get_args(tp)[1]
        return {str(k): convert(item, v, f"{where}.{k}", request_id) for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, Record):
        return decode_record(tp, value, where, request_id)
    return _convert_scalar(tp, value, where)


def _convert_union(tp: Any, value: object, where: str, request_id: str | None) -> Any:
    options = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    if value is None:
        if len(options) < len(typing.get_args(tp)):
            return None
        raise _mismatch(_describe(tp), value, where)
    for option in options:
        try:
            return convert(option, value, where, request_id)
        except ResponseValidationError:
            continue
    raise _mismatch(_describe(tp), value, where)


def _convert_scalar(tp: Any, value: object, where: str) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif tp is datetime:
        if isinstance(value, str):
            return parse_timestamp(value, where)
    else:  # pragma: no cover - a programming error in a result dataclass
        raise TypeError(f"unsupported annotation {tp!r} at {where}")
    raise _mismatch(_describe(tp), value, where)


def parse_timestamp(value: str, where: str) -> datetime:
    """An ISO 8601 string as an aware ``datetime`` (UTC when the string has no offset)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ResponseValidationError(
            f"expected ISO 8601 timestamp, got {value[:40]!r}", where=where
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
