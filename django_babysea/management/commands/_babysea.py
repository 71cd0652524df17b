"""What the ``babysea_*`` commands share: readable errors and a progress bar.

Not a command itself (the leading underscore keeps Django from listing it).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db import DataError

from django_babysea.client import BabySeaError

#: Exceptions a command turns into one line on stderr and exit status 1. DataError and
#: OverflowError are the database refusing a value (too long, out of range) that no check
#: caught first.
USER_ERRORS = (BabySeaError, ValueError, ObjectDoesNotExist, DataError, OverflowError)

#: The largest integer every supported database stores (a signed 64-bit column).
MAX_INTEGER = 2**63 - 1


def whole_number(value: int | None, option: str, minimum: int = 1) -> int | None:
    """``value`` when it is None or within ``minimum``..:data:`MAX_INTEGER`, else a
    one-line ``CommandError`` naming ``option``."""
    if value is not None and value < minimum:
        raise CommandError(f"{option} must be {minimum} or more, not {value}.")
    if value is not None and value > MAX_INTEGER:
        raise CommandError(f"{option} must be at most {MAX_INTEGER}, not {value}.")
    return value


def one_line(exc: BaseException) -> str:
    """The first line of ``str(exc)``, prefixed with the error's class when it says little."""
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    name = type(exc).__name__
    return message if message and len(message) > 12 else f"{name}: {message or 'no details'}"


class BabySeaCommand(BaseCommand):
    """A command whose expected failures end as ``CommandError`` (one line, no traceback)."""

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except USER_ERRORS as exc:
            raise CommandError(one_line(exc)) from exc


class ProgressBar:
    """``progress(done, total)`` callback: a bar redrawn in place on a terminal, silent
    otherwise (the command prints plain counts at the end)."""

    WIDTH = 30

    def __init__(self, stream: OutputWrapper, label: str) -> None:
        self.stream = stream
        self.label = label
        self.enabled = stream.isatty()
        self.drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if total:
            filled = min(self.WIDTH, self.WIDTH * done // total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            line = f"\r{self.label} [{bar}] {done}/{total}"
        else:
            line = f"\r{self.label} {done}"
        self.stream.write(line, ending="")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("")
            self.stream.flush()
