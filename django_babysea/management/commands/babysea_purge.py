"""``manage.py babysea_purge``: delete old webhook deliveries and ledger rows."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django_babysea.conf import babysea_settings
from django_babysea.services import purge

from ._babysea import BabySeaCommand, whole_number


class Command(BabySeaCommand):
    help = (
        "Delete processed/ignored webhook deliveries older than DELIVERY_RETENTION_DAYS and "
        "ledger rows older than LEDGER_RETENTION_DAYS, in batches. Failed and deferred "
        "deliveries are kept."
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
