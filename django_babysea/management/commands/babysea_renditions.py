"""``manage.py babysea_renditions``: make the renditions of stored outputs again (after a change
of the rendition settings, or to retry those that failed)."""

from __future__ import annotations

from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import CommandError
from django.db.models import QuerySet

from django_babysea.conf import babysea_settings
from django_babysea.models import GenerationOutput
from django_babysea.services.renditions import make_renditions, rendition_candidates

from ._babysea import BabySeaCommand, ProgressBar
from .babysea_copy_outputs import find_generation, label, plural


class Command(BabySeaCommand):
    help = (
        "Make the renditions (resized images in RENDITION_FORMATS, video posters) of stored "
        "outputs again, with the current settings; renditions the settings no longer want are "
        "deleted. Exits 1 when any failed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--generation",
            metavar="ID",
            help="only this generation's outputs (local id or BabySea generation id)",
        )
        parser.add_argument(
            "--missing-only",
            action="store_true",
            help="only outputs whose renditions were made with other settings (or never), "
            "or failed",
        )
        parser.add_argument("--dry-run", action="store_true", help="list the outputs, make nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if not babysea_settings.RENDITIONS:
            raise CommandError("BABYSEA['RENDITIONS'] is off: there are no renditions to make.")
        outputs = rendition_candidates(missing_only=options["missing_only"])
        if options["generation"]:
            outputs = outputs.filter(generation=find_generation(options["generation"]))
        if options["dry_run"]:
            self.dry_run(outputs)
            return
        pks = list(outputs.values_list("pk", flat=True))
        counts: Counter[str] = Counter()
        bar = ProgressBar(self.stderr, "Renditions")
        try:
            for done, pk in enumerate(pks, start=1):
                output, outcome = make_renditions(pk)
                counts[outcome] += 1
                self.report_one(output, outcome, options["verbosity"])
                bar(done, len(pks))
        finally:
            bar.close()
        self.report(counts)

    def dry_run(self, outputs: QuerySet[GenerationOutput]) -> None:
        count = 0
        for output in outputs.select_related("generation"):
            count += 1
            made = output.renditions_key or "none yet"
            self.stdout.write(f"{label(output)}: {output.name} (renditions: {made})")
        self.stdout.write(f"Would make renditions of {plural(count, 'output')}.")

    def report_one(self, output: GenerationOutput, outcome: str, verbosity: int) -> None:
        if outcome == "failed" and verbosity >= 1:
            self.stderr.write(f"{label(output)}: failed: {output.rendition_error}")
        elif verbosity >= 2:
            self.stdout.write(f"{label(output)}: {outcome}, {len(output.renditions)} renditions")

    def report(self, counts: Counter[str]) -> None:
        made, failed, skipped = counts["made"], counts["failed"], counts["skipped"]
        total = made + failed + skipped
        self.stdout.write(
            f"Renditions of {plural(total, 'output')}: {made} made, {failed} failed, "
            f"{skipped} skipped."
        )
        if failed:
            raise CommandError(
                f"{failed} of {plural(total, 'output')} failed (errors listed above and "
                "recorded on each GenerationOutput); --missing-only retries them."
            )
