"""Hot queries compiled to SQL once per process, then run with new ids.

Every webhook delivery and every create response takes the generation's row lock with a read
that also brings what the ledger holds for it (three correlated subqueries). Building that
queryset and compiling it took most of a delivery's CPU time, several times the database's
own work; its SQL never changes, only the ids in it do. So it is compiled once with marker
ids, and each call substitutes the real ids for the markers. The first run in a thread goes
through ``raw()``, which also tells how its columns map to fields and which converters they
need; later runs reuse that map and build the instances the same way (``Model.from_db`` after
the fields' own converters).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet

_M = TypeVar("_M", bound=Model)

__all__ = ["raw_rows", "rows"]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    #: Position of each id in ``params``, and whether the backend took it as a UUID or as hex.
    slots: tuple[tuple[int, str, bool], ...]


@dataclass(frozen=True, slots=True)
class _Reader:
    """How the columns of a compiled statement become instances (as ``RawModelIterable``)."""

    names: list[str]
    positions: list[int]
    annotations: list[tuple[str, int]]
    #: Position -> the converters of its column, and the column: bound to this thread's
    #: connection, hence one reader per thread.
    converters: dict[int, tuple[list[Any], Any]]


_compiled: Final[dict[tuple[str, str], _Compiled]] = {}
_readers = threading.local()


def _compile(build: Callable[..., QuerySet[Any]], names: tuple[str, ...], using: str) -> _Compiled:
    markers = {name: uuid.uuid4() for name in names}
    sql, params = build(**markers).query.get_compiler(using=using).as_sql()
    slots = []
    for position, param in enumerate(params):
        for name, marker in markers.items():
            if param == marker or param == marker.hex:
                slots.append((position, name, isinstance(param, uuid.UUID)))
    if sorted(name for _, name, _ in slots) != sorted(names):
        raise RuntimeError(f"each id must appear once in the compiled query: {sql}")
    return _Compiled(sql, tuple(params), tuple(slots))


def rows(
    key: str, model: type[_M], build: Callable[..., QuerySet[_M]], **ids: uuid.UUID | str
) -> list[_M] | None:
    """The rows of ``build(**ids)``, a queryset of ``model`` whose only varying values are the
    UUIDs ``ids``; compiled once per process, database and ``key``.

    None when an id is not a UUID: the caller then runs its queryset as usual, so the ORM's
    own handling of bad input applies.
    """
    try:
        values = {
            name: value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
            for name, value in ids.items()
        }
    except ValueError:
        return None
    # The write database: these are locking reads (select_for_update reads there too).
    using = router.db_for_write(model)
    cache_key = (f"{using}:{connections[using].vendor}", key)
    compiled = _compiled.get(cache_key)
    if compiled is None:
        compiled = _compiled[cache_key] = _compile(build, tuple(sorted(values)), using)
    params = list(compiled.params)
    for position, name, native in compiled.slots:
        params[position] = values[name] if native else values[name].hex
    return raw_rows(key, model, compiled.sql, params, using=using)


def raw_rows(
    key: str, model: type[_M], sql: str, params: list[Any], *, using: str | None = None
) -> list[_M]:
    """``model.objects.raw(sql, params)`` as a list, for an ``sql`` that is the same on every
    call with this ``key`` (and database): its columns' map to fields is worked out once per
    thread."""
    using = using or router.db_for_write(model)
    cache_key = (f"{using}:{connections[using].vendor}", key)
    readers: dict[tuple[str, str], _Reader] = _readers.__dict__.setdefault("readers", {})
    reader = readers.get(cache_key)
    if reader is None:
        raw = model._default_manager.db_manager(using).raw(sql, params)
        found = list(raw)
        readers[cache_key] = _reader(raw, using)
        return found
    return _read(model, using, reader, sql, params)


def _reader(raw: Any, using: str) -> _Reader:
    # ``raw`` is a RawQuerySet that has run: the same steps as RawModelIterable.__iter__.
    names, positions, annotations = raw.resolve_model_init_order()
    fields = [raw.model_fields.get(column) for column in raw.columns]
    # None for an annotation column: no converter (as in RawModelIterable).
    columns: list[Any] = [
        field.get_col(field.model._meta.db_table) if field else None for field in fields
    ]
    connection = connections[using]
    compiler = connection.ops.compiler("SQLCompiler")(raw.query, connection, using)
    return _Reader(names, positions, annotations, compiler.get_converters(columns))


def _read(model: type[_M], using: str, reader: _Reader, sql: str, params: list[Any]) -> list[_M]:
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    found = []
    for row in map(list, fetched):
        for position, (converters, column) in reader.converters.items():
            value = row[position]
            for convert in converters:
                value = convert(value, column, connection)
            row[position] = value
        instance = model.from_db(using, reader.names, [row[at] for at in reader.positions])
        for name, at in reader.annotations:
            setattr(instance, name, row[at])
        found.append(instance)
    return found
