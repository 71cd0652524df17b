"""``manage.py babysea_copy_outputs``: copy output files not stored yet into the site's storage."""

from __future__ import annotations

from argparse import ArgumentParser
from collections import Counter
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.core.management.base import CommandError
from django.db.models import Q, QuerySet

from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.services import copy_candidates, copy_outputs, copy_pending_outputs
from django_babysea.services.outputs import OUTCOMES

from ._babysea import BabySeaCommand, ProgressBar, whole_number


def find_generation(text: str) -> Generation:
    """The generation named by its local id or by BabySea's generation id."""
    try:
        value = UUID(text)
    except ValueError:
        raise CommandError(f"--generation {text!r} is not a generation id (UUID).") from None
    found = Generation.objects.filter(Q(pk=value) | Q(generation_id=value)).first()
    if found is None:
        raise CommandError(f"No generation {value} (neither a local nor a BabySea id).")
    return found


def label(output: GenerationOutput) -> str:
    generation = output.generation
    return f"{generation.generation_id or generation.pk} output {output.index}"


def outcome(output: GenerationOutput) -> str:
    """One line: which output, how its copy ended, and its file name or error."""
    if output.state == OutputState.STORED:
        return f"{label(output)}: stored as {output.name} ({output.size} bytes)"
    if output.state in (OutputState.FAILED, OutputState.EXPIRED):
        reason = f" ({output.error_reason})" if output.error_reason else ""
        return f"{label(output)}: {output.state}{reason}: {output.error}"
    return f"{label(output)}: skipped ({output.state})"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Command(BabySeaCommand):
    help = (
        "Copy every output file not stored yet (pending, failed, or a copy abandoned midway) "
        "into the site's storage, the soonest to expire at BabySea first. Exits 1 when any "
        "copy failed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--limit", type=int, help="copy at most this many outputs")
        parser.add_argument(
            "--generation",
            metavar="ID",
            help="only this generation's outputs (local id or BabySea generation id)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be copied, copy nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = whole_number(options["limit"], "--limit")
        generation = find_generation(options["generation"]) if options["generation"] else None
        if generation is not None and limit is not None:
            raise CommandError("--limit applies to the whole sweep, not to --generation.")
        if options["dry_run"]:
            self.dry_run(generation, limit)
            return
        if generation is not None:
            finished = copy_outputs(str(generation.pk))
            counts = Counter(o.state if o.state in OUTCOMES else "skipped" for o in finished)
        else:
            finished = []
            bar = ProgressBar(self.stderr, "Copying")
            try:
                counts = Counter(
                    copy_pending_outputs(limit, progress=bar, on_output=finished.append)
                )
            finally:
                bar.close()
        self.report(finished, counts, options["verbosity"])

    def dry_run(self, generation: Generation | None, limit: int | None) -> None:
        # The sweep's own selection and order, read without claiming anything.
        pending: QuerySet[GenerationOutput] = copy_candidates().select_related("generation")
        if generation is not None:
            pending = pending.filter(generation=generation)
        count = 0
        for output in pending[:limit] if limit is not None else pending:
            count += 1
            expires = output.remote_expires_at
            when = expires.isoformat() if expires else "unknown"
            self.stdout.write(f"{label(output)}: {output.state}, expires at BabySea {when}")
        self.stdout.write(f"Would copy {plural(count, 'output')}.")

    def report(
        self, finished: Iterable[GenerationOutput], counts: Counter[str], verbosity: int
    ) -> None:
        for output in finished:
            if output.state == OutputState.FAILED and verbosity >= 1:
                self.stderr.write(outcome(output))
            elif verbosity >= 2:
                self.stdout.write(outcome(output))
        stored, failed = counts["stored"], counts["failed"]
        expired, skipped = counts["expired"], counts["skipped"]
        total = stored + failed + expired + skipped
        self.stdout.write(
            f"Copied {plural(total, 'output')}: {stored} stored, {failed} failed, "
            f"{expired} expired, {skipped} skipped."
        )
        if failed:
            raise CommandError(
                f"{failed} of {plural(total, 'output')} failed to copy (errors listed above and "
                "recorded on each GenerationOutput); the next run tries them again."
            )
