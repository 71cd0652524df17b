"""``manage.py babysea_generate "PROMPT" --model MODEL [--owner USERNAME]``: one generation end
to end."""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser, ArgumentTypeError, BooleanOptionalAction
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from django_babysea.conf import babysea_settings
from django_babysea.models import Generation, GenerationOutput, GenerationStatus, OutputState
from django_babysea.policy import get_policy
from django_babysea.services import (
    create_generation,
    refresh_generation,
    send_generation,
    submit_generation,
)

from ._babysea import BabySeaCommand

PREFIX = "generation_"
#: Copies still under way (here, in a webhook request of the site, or on a worker).
IN_PROGRESS = (OutputState.PENDING, OutputState.COPYING)


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
        "Run one BabySea generation from the shell: send it (inline, even with Celery on, "
        "unless --owner is given), follow it until it finishes, print its id and output URLs, "
        "and (without Celery) wait for the copies of its outputs."
    )

    # The wait, set by handle(): seconds in all, between checks, and when it ends.
    timeout = 0.0
    interval = 1.0
    deadline = 0.0

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
            "--owner",
            metavar="USERNAME",
            help="the user the generation belongs to: their daily budget applies and the "
            "permission policy sees it as theirs (it is sent as the site sends it: on a worker "
            "with a job backend such as Celery)",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=600.0,
            help="seconds to wait for the end, copies included (600)",
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
        if options["owner"] is None:
            generation = create_generation(options["model"], fields)
            self.created(generation)
            generation = send_generation(generation.pk)
        else:
            owner = owner_named(options["owner"])
            # The one budgeted way in: the cost is reserved before anything is stored or sent.
            generation = submit_generation(options["model"], owner=owner, **fields)
            self.created(generation)
        if generation.generation_id is not None:
            self.stdout.write(f"BabySea generation id: {generation.generation_id}")
        self.timeout, self.interval = options["timeout"], options["interval"]
        self.deadline = time.monotonic() + self.timeout
        self.finish(self.follow(generation))

    def created(self, generation: Generation) -> None:
        self.stdout.write(
            f"Created generation {generation.pk} ({generation.model_identifier}, {generation.kind})"
        )

    def follow(self, generation: Generation) -> Generation:
        shown = ""
        while True:
            if generation.status != shown:
                shown = generation.status
                self.stdout.write(f"Status: {shown}")
            if generation.is_terminal:
                return generation
            if time.monotonic() >= self.deadline:
                raise CommandError(
                    f"Generation {generation.generation_id} did not finish within "
                    f"{self.timeout:g}s (last status: {generation.status}); babysea_poll will "
                    "pick it up."
                )
            self.pause()
            if generation.generation_id is None:
                # Not accepted yet (a worker is sending it): only the database can tell.
                generation = Generation.objects.get(pk=generation.pk)
            else:
                generation = refresh_generation(generation)

    def pause(self) -> None:
        time.sleep(max(0.0, min(self.interval, self.deadline - time.monotonic())))

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
        queued = babysea_settings.JOB_BACKEND != "inline"
        # With Celery or the Tasks framework a worker copies and may still be busy: the state
        # lines say so.
        outputs = list(generation.outputs.order_by("index")) if queued else self.copies(generation)
        for output in outputs:
            if output.is_stored:
                self.stdout.write(
                    f"Stored: {output.name} ({output.size} bytes, {output.content_type}) "
                    f"at {output.url}"
                )
            else:
                detail = f": {output.error}" if output.error else ""
                self.stdout.write(f"Copy {output.index}: {output.state}{detail}")
        failed = [o for o in outputs if o.state not in IN_PROGRESS and not o.is_stored]
        if failed and not queued:
            raise CommandError(copy_failure(generation, failed))

    def copies(self, generation: Generation) -> list[GenerationOutput]:
        """The outputs once none is pending or being copied. Without a worker the copy runs
        inline: in this process when the command saw the success first, else in the site's
        process that received the webhook, right after answering it."""
        while True:
            outputs = list(generation.outputs.order_by("index"))
            busy = [o for o in outputs if o.state in IN_PROGRESS]
            if not busy:
                return outputs
            if time.monotonic() >= self.deadline:
                raise CommandError(
                    f"The copy of output {busy[0].index} of generation "
                    f"{generation.generation_id} did not finish within {self.timeout:g}s "
                    f"(state: {busy[0].state}); babysea_copy_outputs will finish it."
                )
            self.pause()


def owner_named(username: str) -> Any:
    """The active user called ``username`` whom the permission policy lets submit, else a
    one-line ``CommandError``."""
    model = get_user_model()
    try:
        user = model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        raise CommandError(f"No user with the username {username!r}.") from None
    if not get_policy().has_permission(user, "submit"):
        raise CommandError(
            f"User {username!r} may not submit generations (the permission policy refuses)."
        )
    return user


def copy_failure(generation: Generation, failed: list[GenerationOutput]) -> str:
    """One line: which outputs were not copied and why (the sweep tries failed ones again)."""
    parts = []
    for output in failed:
        error = (output.error.strip().splitlines() or [""])[0].rstrip(".")
        reason = output.error_reason or output.state
        parts.append(
            f"output {output.index} {output.state} ({reason})" + (f": {error}" if error else "")
        )
    return (
        f"Generation {generation.generation_id} succeeded, but its copy did not: "
        + "; ".join(parts)
        + ". babysea_copy_outputs tries failed copies again."
    )
