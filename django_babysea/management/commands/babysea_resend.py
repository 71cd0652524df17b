"""``manage.py babysea_resend``: send again the generations a failed send left ``created``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from django_babysea.services import Resent, resend_generations

from ._babysea import BabySeaCommand, ProgressBar, one_line, whole_number


def report(resent: Resent) -> str:
    """One line: how many BabySea accepted and rejected, and what stopped the sweep."""
    line = f"Resent: {resent.accepted} accepted, {resent.rejected} rejected."
    if resent.error is not None:
        line += f" Stopped: {one_line(resent.error)}"
    return line


class Command(BabySeaCommand):
    help = (
        "Send again, with their own idempotency keys, the generations still 'created' after "
        "a failed send (or whose send never ran), oldest first. A create whose answer was lost "
        "is answered now, never run twice. Exits 1 when BabySea could not be reached."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--limit", type=int, help="resend at most this many")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = whole_number(options["limit"], "--limit")
        bar = ProgressBar(self.stderr, "Resending")
        try:
            resent = resend_generations(limit, progress=bar)
        finally:
            bar.close()
        if resent.error is not None:
            raise CommandError(report(resent))
        self.stdout.write(report(resent))
