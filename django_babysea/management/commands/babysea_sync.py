"""``manage.py babysea_sync``: bring every generation of the account into the database, or
(``--catalog``) refresh the cached model catalog."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django_babysea.services import refresh_catalog, sync_generations

from ._babysea import BabySeaCommand, ProgressBar


class Command(BabySeaCommand):
    help = (
        "Walk every generation of the BabySea account and apply it locally; generations made "
        "elsewhere get a row. With --catalog, refresh the cached model catalog instead."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--catalog",
            action="store_true",
            help="Fetch BabySea's model catalog and model health into the database instead.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["catalog"]:
            count = refresh_catalog()
            self.stdout.write(f"Catalog refreshed: {count} models.")
            return
        bar = ProgressBar(self.stderr, "Syncing")
        try:
            created, updated = sync_generations(progress=bar)
        finally:
            bar.close()
        self.stdout.write(f"Synced: {created} created, {updated} updated.")
