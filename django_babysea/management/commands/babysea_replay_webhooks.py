"""``manage.py babysea_replay_webhooks``: process stored webhook deliveries again."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.core.management.base import CommandError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from django_babysea.models import DeliveryState, WebhookDelivery
from django_babysea.services import process_delivery

from ._babysea import BabySeaCommand, one_line


def since(text: str) -> datetime:
    """An ISO 8601 date or date-time; naive values are UTC."""
    try:
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = datetime(day.year, day.month, day.day)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--since {text!r} is not an ISO 8601 date or date-time.")
    return moment.replace(tzinfo=UTC) if timezone.is_naive(moment) else moment


def delivery_filter(ids: list[str]) -> Q:
    """Deliveries named by BabySea delivery id (UUID) or by row number."""
    uuids: list[UUID] = []
    pks: list[int] = []
    for text in ids:
        if text.isdigit():
            pks.append(int(text))
            continue
        try:
            uuids.append(UUID(text))
        except ValueError:
            raise CommandError(
                f"{text!r} is neither a delivery id (UUID) nor a row number."
            ) from None
    return Q(delivery_id__in=uuids) | Q(pk__in=pks)


class Command(BabySeaCommand):
    help = (
        "Process stored webhook deliveries again (each is applied at most once; processed "
        "ones are left as they are). Select by ids, --state, --failed and/or --since."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("ids", nargs="*", help="delivery ids (UUID) or row numbers")
        parser.add_argument(
            "--state",
            action="append",
            choices=DeliveryState.values,
            help="deliveries in this state (repeat for several), e.g. invalid after a fix",
        )
        parser.add_argument(
            "--failed", action="store_true", help="deliveries whose processing failed"
        )
        parser.add_argument("--since", type=str, help="received at or after this ISO date/time")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[str] = options["ids"]
        states: list[str] = list(options["state"] or [])
        if options["failed"]:
            states.append(DeliveryState.FAILED)
        if not ids and not states and not options["since"]:
            raise CommandError(
                "Name delivery ids, or select with --state, --failed and/or --since."
            )
        deliveries: QuerySet[WebhookDelivery] = WebhookDelivery.objects.order_by(
            "received_at", "pk"
        )
        if ids:
            deliveries = deliveries.filter(delivery_filter(ids))
            missing = len(set(ids)) - deliveries.count()
            if missing > 0:
                raise CommandError(f"{missing} of the named deliveries are not stored.")
        if states:
            deliveries = deliveries.filter(state__in=states)
        if options["since"]:
            deliveries = deliveries.filter(received_at__gte=since(options["since"]))
        failed = total = 0
        for delivery in deliveries.iterator():
            total += 1
            try:
                result = process_delivery(delivery)
            except Exception as exc:  # the error is stored on the delivery row
                failed += 1
                self.stderr.write(
                    f"{delivery.delivery_id} {delivery.event_type}: failed: {one_line(exc)}"
                )
                continue
            if result.state == DeliveryState.INVALID:
                failed += 1
                reason = one_line(ValueError(result.error))
                self.stderr.write(
                    f"{delivery.delivery_id} {delivery.event_type}: invalid: {reason}"
                )
                continue
            self.stdout.write(f"{delivery.delivery_id} {delivery.event_type}: {result.state}")
        self.stdout.write(f"Replayed {total} deliveries, {failed} failed.")
        if failed:
            raise CommandError(f"{failed} of {total} deliveries failed again; see their errors.")
