"""Jobs registered by the Tasks framework tests only (see conftest.py ``test_jobs``)."""

from __future__ import annotations

from typing import Final

from django_babysea.models import Generation

FAILING: Final = "tasks_tests_failing"
MISSING_ROW: Final = "tasks_tests_missing_row"
RECORDING: Final = "tasks_tests_recording"

#: What ``recording`` was called with, in this process.
CALLS: list[tuple[str, ...]] = []


def failing(reason: str) -> None:
    raise RuntimeError(f"simulated failure: {reason}")


def missing_row(pk: str) -> None:
    Generation.objects.get(pk=pk)


def recording(*args: str) -> list[object]:
    CALLS.append(args)
    # A return value the framework could not store as JSON: the task must not return it.
    return [object()]


JOBS: Final = {
    FAILING: f"{__name__}.failing",
    MISSING_ROW: f"{__name__}.missing_row",
    RECORDING: f"{__name__}.recording",
}
