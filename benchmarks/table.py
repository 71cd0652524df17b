"""One row per figure and the one table ``python -m benchmarks`` prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

HEADER: Final = ("benchmark", "figure", "baseline", "ratio", "target", "verdict")


@dataclass(frozen=True)
class Row:
    benchmark: str
    figure: str
    baseline: str
    ratio: float | None
    target: str = "-"
    #: True or False when the row has a target, None when it only reports.
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        return "-" if self.passed is None else ("PASS" if self.passed else "FAIL")

    def cells(self) -> tuple[str, ...]:
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}x"
        return (self.benchmark, self.figure, self.baseline, ratio, self.target, self.verdict)


def failed(benchmark: str, reason: str) -> Row:
    """The row of a benchmark that broke: the table still comes out, saying why."""
    return Row(benchmark, f"error: {reason}", "-", None, "-", False)


def render(rows: list[Row]) -> list[str]:
    """A Markdown table (it reads as plain text too, and pastes into docs/performance.md)."""
    lines = ["| " + " | ".join(HEADER) + " |", "| --- | --- | --- | ---: | --- | --- |"]
    lines.extend("| " + " | ".join(row.cells()) + " |" for row in rows)
    return lines
