"""``manage.py babysea_poll``: resend unsent generations, refresh those still running."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django_babysea.services import poll_generations, resend_generations

from ._babysea import BabySeaCommand, ProgressBar, whole_number
from .babysea_resend import report


class Command(BabySeaCommand):
    help = (
        "Send again the generations a failed send left 'created', then refresh every pending "
        "or processing generation from BabySea (oldest first)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--limit", type=int, help="resend and refresh at most this many each")
        parser.add_argument(
            "--no-resend", action="store_true", help="only refresh; leave unsent rows alone"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = whole_number(options["limit"], "--limit")
        if not options["no_resend"]:
            bar = ProgressBar(self.stderr, "Resending")
            try:
                resent = resend_generations(limit, progress=bar)
            finally:
                bar.close()
            if resent.accepted or resent.rejected or resent.error is not None:
                self.stdout.write(report(resent))
        bar = ProgressBar(self.stderr, "Polling")
        try:
            count = poll_generations(limit, progress=bar, resend=False)
        finally:
            bar.close()
        self.stdout.write(f"Refreshed {count} generation{'' if count == 1 else 's'}.")
