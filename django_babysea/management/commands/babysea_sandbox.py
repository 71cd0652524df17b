"""``manage.py babysea_sandbox``: the sandbox with the same options as the module's command line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_babysea.sandbox.cli import add_arguments, build_sandboxes, serve_forever
from django_babysea.sandbox.extra import MissingExtra, require_extra


class Command(BaseCommand):
    help = "Run a local, stateful stand-in of the BabySea API (see docs/sandbox.md)."
    requires_system_checks = ()  # the sandbox is what runs before any key is configured

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            require_extra()
            sandboxes = build_sandboxes(options)
            serve_forever(sandboxes, options["faults"], self.stdout)
        except (MissingExtra, ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
