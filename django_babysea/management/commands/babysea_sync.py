"""``manage.py babysea_sync``: bring every generation of the account into the database."""

from __future__ import annotations

from typing import Any

from django_babysea.services import sync_generations

from ._babysea import BabySeaCommand, ProgressBar


class Command(BabySeaCommand):
    help = (
        "Walk every generation of the BabySea account and apply it locally; generations made "
        "elsewhere get a row."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        bar = ProgressBar(self.stderr, "Syncing")
        try:
            created, updated = sync_generations(progress=bar)
        finally:
            bar.close()
        self.stdout.write(f"Synced: {created} created, {updated} updated.")
