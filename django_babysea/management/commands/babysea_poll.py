"""``manage.py babysea_poll``: refresh the generations that are still running."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django_babysea.services import poll_generations

from ._babysea import BabySeaCommand, ProgressBar


class Command(BabySeaCommand):
    help = "Refresh every pending or processing generation from BabySea (oldest first)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--limit", type=int, help="refresh at most this many")

    def handle(self, *args: Any, **options: Any) -> None:
        bar = ProgressBar(self.stderr, "Polling")
        try:
            count = poll_generations(options["limit"], progress=bar)
        finally:
            bar.close()
        self.stdout.write(f"Refreshed {count} generation{'' if count == 1 else 's'}.")
