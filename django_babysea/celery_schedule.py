"""Periodic django-babysea work for Celery beat.

In the site's Celery module::

    from django_babysea.celery_schedule import beat_schedule

    app.conf.beat_schedule |= beat_schedule()

Each entry names a task of :mod:`django_babysea.tasks`. Every interval can be changed, or set to
``None`` to leave that entry out; any schedule Celery accepts (seconds, a ``timedelta``, a
``crontab``) works. This module imports nothing from Celery, so it can be imported anywhere.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

__all__ = ["DEFAULT_COPY", "DEFAULT_POLL", "DEFAULT_PURGE", "DEFAULT_SYNC", "beat_schedule"]

DEFAULT_POLL: Final = timedelta(seconds=60)
DEFAULT_COPY: Final = timedelta(minutes=5)
DEFAULT_SYNC: Final = timedelta(hours=1)
DEFAULT_PURGE: Final = timedelta(days=1)

#: Seconds, a ``timedelta`` or a Celery schedule object such as ``crontab(...)``.
Schedule = Any


def _seconds(schedule: Schedule) -> float | None:
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, int | float):
        return float(schedule)
    return None  # crontab and friends: no fixed interval


def beat_schedule(
    *,
    poll: Schedule | None = DEFAULT_POLL,
    copy: Schedule | None = DEFAULT_COPY,
    sync: Schedule | None = DEFAULT_SYNC,
    purge: Schedule | None = DEFAULT_PURGE,
    queue: str | None = None,
    prefix: str = "django-babysea",
) -> dict[str, dict[str, Any]]:
    """Beat entries: resend generations a failed send left ``created`` and poll unfinished ones
    (one ``poll_generations`` task, every 60 s), copy output files not stored yet
    (every 5 minutes: retries failed copies and picks up any the success-time job missed before
    BabySea's retention window deletes them), sync with BabySea's list (hourly) and purge old
    rows (daily).

    ``queue`` routes every entry's task to one queue (by default they follow the site's
    routing). A run that has not started by the time the next one is due expires instead of
    piling up behind a stalled worker.
    """
    entries = {
        "poll": ("poll_generations", poll),
        "copy": ("copy_pending_outputs", copy),
        "sync": ("sync_generations", sync),
        "purge": ("purge", purge),
    }
    schedule: dict[str, dict[str, Any]] = {}
    for key, (job, when) in entries.items():
        if when is None:
            continue
        options: dict[str, Any] = {}
        interval = _seconds(when)
        if interval is not None and interval > 0:
            options["expires"] = interval
        if queue is not None:
            options["queue"] = queue
        schedule[f"{prefix}-{key}"] = {
            "task": f"django_babysea.{job}",
            "schedule": when,
            "options": options,
        }
    return schedule
