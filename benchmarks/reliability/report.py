"""The lines a run prints: what it tried, then what was lost (the target is nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    """``tried`` and ``figures`` are printed as they are; ``lost`` lists every loss or double
    found, one line each; the run fails when it is not empty."""

    run: str
    tried: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    def print(self) -> None:
        for line in self.tried:
            print(f"[{self.run}] tried: {line}")
        for line in self.figures:
            print(f"[{self.run}] {line}")
        for line in self.lost[:20]:
            print(f"[{self.run}] LOST: {line}")
        if len(self.lost) > 20:
            print(f"[{self.run}] LOST: ... and {len(self.lost) - 20} more")
        print(f"[{self.run}] lost: {len(self.lost)}", flush=True)

    @property
    def ok(self) -> bool:
        return not self.lost
