"""``manage.py babysea_generate "PROMPT" --model MODEL``: one generation end to end."""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser, ArgumentTypeError, BooleanOptionalAction
from typing import Any

from django.core.management.base import CommandError

from django_babysea.models import Generation, GenerationStatus
from django_babysea.services import create_generation, refresh_generation, send_generation

from ._babysea import BabySeaCommand

PREFIX = "generation_"


def field(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``; VALUE is read as JSON when it is JSON (numbers, booleans, lists), else as
    text; ``generation_`` is added to KEY when missing."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    return (key if key.startswith(PREFIX) else PREFIX + key), parsed


class Command(BabySeaCommand):
    help = (
        "Run one BabySea generation from the shell: send it (inline, even with Celery on), "
        "follow it until it finishes, print its id and output URLs."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("prompt", help="the generation_prompt")
        parser.add_argument(
            "--model", required=True, help="model identifier, e.g. bfl/flux-schnell"
        )
        parser.add_argument("--ratio", help="generation_ratio, e.g. 16:9")
        parser.add_argument("--format", dest="output_format", help="png, jpg, webp or mp4")
        parser.add_argument("--duration", type=int, help="seconds; makes it a video generation")
        parser.add_argument("--resolution", help="e.g. 720p or 1080p")
        parser.add_argument(
            "--audio", action=BooleanOptionalAction, default=None, help="generate audio (video)"
        )
        parser.add_argument("--provider-order", help="'fastest' or e.g. 'bfl, replicate'")
        parser.add_argument(
            "--field",
            action="append",
            type=field,
            default=[],
            metavar="KEY=VALUE",
            help="any other generation_* field (repeatable); JSON values are decoded",
        )
        parser.add_argument(
            "--timeout", type=float, default=600.0, help="seconds to wait for the end (600)"
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between status checks (1)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fields: dict[str, Any] = {
            "generation_prompt": options["prompt"],
            "generation_ratio": options["ratio"],
            "generation_output_format": options["output_format"],
            "generation_duration": options["duration"],
            "generation_resolution": options["resolution"],
            "generation_generate_audio": options["audio"],
            "generation_provider_order": options["provider_order"],
        }
        fields.update(dict(options["field"]))
        generation = create_generation(options["model"], fields)
        self.stdout.write(
            f"Created generation {generation.pk} ({generation.model_identifier}, {generation.kind})"
        )
        generation = send_generation(generation.pk)
        if generation.generation_id is not None:
            self.stdout.write(f"BabySea generation id: {generation.generation_id}")
        generation = self.follow(generation, options["timeout"], options["interval"])
        self.finish(generation)

    def follow(self, generation: Generation, timeout: float, interval: float) -> Generation:
        deadline = time.monotonic() + timeout
        shown = ""
        while True:
            if generation.status != shown:
                shown = generation.status
                self.stdout.write(f"Status: {shown}")
            if generation.is_terminal:
                return generation
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"Generation {generation.generation_id} did not finish within {timeout:g}s "
                    f"(last status: {generation.status}); babysea_poll will pick it up."
                )
            time.sleep(max(0.0, min(interval, deadline - time.monotonic())))
            generation = refresh_generation(generation)

    def finish(self, generation: Generation) -> None:
        if generation.status != GenerationStatus.SUCCEEDED:
            reason = " ".join(filter(None, [generation.error_code, generation.error_message]))
            name = generation.generation_id or generation.pk
            raise CommandError(
                f"Generation {name} {generation.status}" + (f": {reason}" if reason else ".")
            )
        self.stdout.write(f"Generation id: {generation.generation_id}")
        for url in generation.output_urls:
            self.stdout.write(f"Output: {url}")
        # Without Celery the copies were made inline before this point; with it, a worker
        # may still be busy and the state says so.
        for output in generation.outputs.order_by("index"):
            if output.is_stored:
                self.stdout.write(
                    f"Stored: {output.name} ({output.size} bytes, {output.content_type}) "
                    f"at {output.url}"
                )
            else:
                detail = f": {output.error}" if output.error else ""
                self.stdout.write(f"Copy {output.index}: {output.state}{detail}")
