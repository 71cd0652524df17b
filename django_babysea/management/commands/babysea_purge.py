"""``manage.py babysea_purge``: delete old webhook deliveries, ledger rows and budget days."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django_babysea.conf import babysea_settings
from django_babysea.services import purge

from ._babysea import BabySeaCommand, whole_number


class Command(BabySeaCommand):
    help = (
        "Delete processed/ignored webhook deliveries older than DELIVERY_RETENTION_DAYS, "
        "ledger rows older than LEDGER_RETENTION_DAYS and budget days older than "
        "BUDGET_RETENTION_DAYS (with their settled or released reservations), in batches. "
        "Failed and deferred deliveries, and budget days still holding a reservation, are kept."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="rows per transaction (1000)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = whole_number(options["batch_size"], "--batch-size")
        counts = purge(batch_size=batch_size or 1000, dry_run=options["dry_run"])
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(
            f"{verb} {counts['deliveries']} webhook deliveries (older than "
            f"{babysea_settings.DELIVERY_RETENTION_DAYS} days) and {counts['credit_events']} "
            f"ledger rows (older than {babysea_settings.LEDGER_RETENTION_DAYS} days)."
        )
        budget_rows = counts["budget_days"] + counts["budget_reservations"]
        # A site without a daily budget has no budget rows: no line about them.
        if budget_rows or babysea_settings.USER_DAILY_BUDGET is not None:
            self.stdout.write(
                f"{verb} {counts['budget_days']} budget days and "
                f"{counts['budget_reservations']} budget reservations (older than "
                f"{babysea_settings.BUDGET_RETENTION_DAYS} days)."
            )
