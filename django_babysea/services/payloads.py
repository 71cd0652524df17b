"""Which authentic webhook payloads can be applied, decided before anything is applied.

A delivery BabySea signed may still carry data this site can never store: a generation event
without a usable ``generation_id``, a string with NUL (PostgreSQL refuses it in text and JSON) or
a lone surrogate (no UTF-8 form), NaN or Infinity (not JSON for the database), a balance too
large for the ledger's decimal column. Retrying such a delivery can never succeed, so it is kept
as ``invalid`` with the reason this module gives, and acknowledged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from .events import NEUTRAL_FIELDS, OUTCOME_FIELDS
from .ledger import fits_balance, to_credits

__all__ = [
    "GENERATION_EVENTS",
    "LOW_BALANCE_EVENT",
    "MAX_DEPTH",
    "MAX_OUTPUTS",
    "TEST_EVENT",
    "decode_body",
    "generation_id_of",
    "nesting_depth",
    "payload_problem",
]

GENERATION_EVENTS: Final = frozenset(
    {"generation.started", "generation.completed", "generation.failed", "generation.canceled"}
)
LOW_BALANCE_EVENT: Final = "credits.low_balance"
TEST_EVENT: Final = "webhook.test"
#: Deepest nesting of arrays and objects accepted in a body; BabySea's payloads use 4 levels.
MAX_DEPTH: Final = 64
#: Most output files one generation event may list (the output index is a small integer).
MAX_OUTPUTS: Final = 1000

# A JSON string literal with its escapes (or an unterminated one, up to the end).
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
# U+D800..U+DFFF: halves of a surrogate pair, never valid alone in UTF-8 text.
_UNSTORABLE_CHAR: Final = re.compile("[\x00\ud800-\udfff]")


def nesting_depth(body: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in ``body``, counted up to ``limit + 1``.

    A scan of the bytes outside string literals, cheap enough to run before ``json.loads``
    (whose recursion a deeply nested body would exhaust).
    """
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        depth += _STEP[byte]
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def decode_body(body: bytes | str) -> Any:
    """The JSON value of a delivery body; ``ValueError`` for anything else, including a body
    nested deeper than :data:`MAX_DEPTH`."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if nesting_depth(raw) > MAX_DEPTH:
        raise ValueError(f"The body nests arrays or objects more than {MAX_DEPTH} levels deep.")
    text = body if isinstance(body, str) else body.decode("utf-8")
    return json.loads(text)


def generation_id_of(data: object) -> UUID | None:
    """BabySea's generation id in ``webhook_data``: a UUID string, else None."""
    value = data.get("generation_id") if isinstance(data, Mapping) else None
    if not isinstance(value, str):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def payload_problem(event_type: str, data: object) -> str | None:
    """Why ``webhook_data`` of a ``event_type`` delivery can never be applied, or None.

    Event types that are not applied (``webhook.test``, types this version does not know) have
    no problem. Reasons name the field, never echo its value.
    """
    if event_type not in GENERATION_EVENTS and event_type != LOW_BALANCE_EVENT:
        return None
    if not isinstance(data, dict):
        return "webhook_data is not a JSON object."
    problem = _unstorable(data, "webhook_data")
    if problem is None and event_type == LOW_BALANCE_EVENT:
        problem = _low_balance_problem(data)
    elif problem is None:
        problem = _generation_problem(data)
    return problem


def _unstorable(value: object, path: str) -> str | None:
    """The first value under ``value`` that a database column or JSON field cannot hold."""
    # An explicit stack: the nesting is bounded, but a recursion limit is not ours to spend.
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if (bad := _UNSTORABLE_CHAR.search(item)) is not None:
                kind = "NUL" if bad.group() == "\x00" else "a lone surrogate"
                return f"{where} contains {kind}, which the database cannot store."
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{where} is {item!r}, which JSON and the database cannot store."
        elif isinstance(item, dict):
            for key, child in item.items():
                if _UNSTORABLE_CHAR.search(key):
                    return f"A key in {where} contains NUL or a lone surrogate."
                stack.append((child, f"{where}.{key[:40]}"))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
    return None


def _generation_problem(data: Mapping[str, Any]) -> str | None:
    if "generation_id" not in data:
        return "webhook_data.generation_id is missing."
    if generation_id_of(data) is None:
        return "webhook_data.generation_id is not a UUID string."
    outputs = data.get("generation_output_file")
    if isinstance(outputs, list) and len(outputs) > MAX_OUTPUTS:
        return f"webhook_data.generation_output_file lists more than {MAX_OUTPUTS} files."
    for key, (_field, convert) in {**NEUTRAL_FIELDS, **OUTCOME_FIELDS}.items():
        moment = convert(data.get(key))
        if isinstance(moment, datetime) and not _storable_moment(moment):
            return f"webhook_data.{key} is out of the range of dates the database can store."
    return None


def _storable_moment(moment: datetime) -> bool:
    try:
        # Stored in UTC: an offset can carry year 1 or 9999 over the edge.
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


def _low_balance_problem(data: Mapping[str, Any]) -> str | None:
    balance = data.get("current_balance")
    if balance is not None:
        if isinstance(balance, bool) or not isinstance(balance, int | float):
            return "webhook_data.current_balance is not a number."
        credits = to_credits(balance)
        if credits is None or not fits_balance(credits):
            return "webhook_data.current_balance is too large for the ledger."
    thresholds = data.get("thresholds_crossed")
    if thresholds is not None and not (
        isinstance(thresholds, list) and all(isinstance(item, dict) for item in thresholds)
    ):
        return "webhook_data.thresholds_crossed is not a list of objects."
    return None
