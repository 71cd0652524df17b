"""Hot queries compiled to SQL once per process, then run with new ids.

Every webhook delivery and every create response takes the generation's row lock with a read
that also brings what the ledger holds for it (three correlated subqueries). Building that
queryset and compiling it took most of a delivery's CPU time, several times the database's
own work; its SQL never changes, only the ids in it do. So it is compiled once with marker
ids, and each call substitutes the real ids for the markers and runs it as a raw query, which
still turns columns into model instances through the fields' own converters.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet

_M = TypeVar("_M", bound=Model)

__all__ = ["rows"]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    #: Position of each id in ``params``, and whether the backend took it as a UUID or as hex.
    slots: tuple[tuple[int, str, bool], ...]


_compiled: Final[dict[tuple[str, str], _Compiled]] = {}


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
    return list(model._default_manager.db_manager(using).raw(compiled.sql, params))
