"""The ``BABYSEA`` settings dict, read lazily.

Every attribute of :data:`babysea_settings` looks at ``settings.BABYSEA`` when it is read, so
``override_settings(BABYSEA=...)`` takes effect at once and nothing is frozen at import time.
Validation lives in :mod:`django_babysea.checks`; this module only supplies values and defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from django.conf import settings

__all__ = [
    "DEFAULTS",
    "JOB_BACKENDS",
    "KNOWN_KEYS",
    "REGIONS",
    "BabySeaSettings",
    "babysea_settings",
]

REGIONS: Final = ("us", "eu", "jp")

#: Where dispatched jobs run: in the web process after commit, on Celery, or on Django's Tasks
#: framework (``django.tasks`` on Django 6, the ``django-tasks`` backport before).
JOB_BACKENDS: Final = ("inline", "celery", "tasks")

#: Hosts output files may be downloaded from: BabySea's regional CDNs. URLs on the origin of
#: BASE_URL (the sandbox, or a proxy the site sends its key to) are trusted besides.
DEFAULT_OUTPUT_HOSTS: Final = ("cdn.us.babysea.ai", "cdn.eu.babysea.ai", "cdn.jp.babysea.ai")

DEFAULTS: Final[Mapping[str, Any]] = {
    "API_KEY": None,  # falls back to env BABYSEA_API_KEY
    "REGION": "us",
    "BASE_URL": None,
    "WEBHOOK_SECRETS": None,  # falls back to env BABYSEA_WEBHOOK_SECRET (comma-separated)
    "WEBHOOK_TOLERANCE": 300,
    "STORAGE": "default",
    "UPLOAD_TO": "babysea/%Y/%m/{generation_id}/{index}.{ext}",
    "MAX_OUTPUT_BYTES": 2 * 1024**3,
    "OUTPUT_HOSTS": DEFAULT_OUTPUT_HOSTS,
    "OUTPUT_RETENTION_HOURS": 1,
    "COPY_TIMEOUT": 900,
    "KEEP_LOCAL_COPIES": False,
    "TIMEOUT": 30.0,
    "MAX_RETRIES": 2,
    # Longest Retry-After the client honours before giving up on a retry (seconds).
    "MAX_RETRY_AFTER": 60,
    "USER_DAILY_BUDGET": None,
    # Who may see and act on which generations (the API; the admin and Wagtail later).
    "PERMISSION_POLICY": "django_babysea.policy.DefaultPolicy",
    "USE_CELERY": False,
    # One of JOB_BACKENDS; None follows USE_CELERY ("celery" when on, else "inline").
    "JOB_BACKEND": None,
    # Queue of the Tasks framework backend the jobs are enqueued on (JOB_BACKEND "tasks").
    "TASKS_QUEUE": "default",
    "DELIVERY_RETENTION_DAYS": 30,
    # Seconds the cached model catalog counts as fresh (the admin's create form, the API).
    "CATALOG_TTL": 3600,
    "LEDGER_RETENTION_DAYS": 365,
    # Days babysea_purge keeps per-user budget days (and their settled or released holds).
    "BUDGET_RETENTION_DAYS": 90,
    # Resized copies (and video posters) made when an output is stored; see docs/templates.md.
    "RENDITIONS": True,
    "RENDITION_WIDTHS": (480, 960, 1440),
    "RENDITION_FORMATS": ("avif", "webp"),
    "RENDITION_QUALITY": 80,
    "RENDITION_MAX_PIXELS": 50_000_000,
    "FFMPEG_BINARY": None,
}
KNOWN_KEYS: Final = frozenset(DEFAULTS)


class BabySeaSettings:
    """Typed, lazy view of ``settings.BABYSEA`` merged over :data:`DEFAULTS`."""

    @property
    def user_settings(self) -> Mapping[str, Any]:
        value = getattr(settings, "BABYSEA", None)
        return value if isinstance(value, Mapping) else {}

    def get(self, key: str) -> Any:
        return self.user_settings.get(key, DEFAULTS[key])

    @property
    def API_KEY(self) -> str:
        value = self.get("API_KEY")
        if value is None:
            value = os.environ.get("BABYSEA_API_KEY", "")
        return str(value).strip()

    @property
    def REGION(self) -> str:
        return str(self.get("REGION"))

    @property
    def BASE_URL(self) -> str | None:
        value = self.get("BASE_URL")
        if value is None:
            value = os.environ.get("BABYSEA_BASE_URL") or None
        return str(value).rstrip("/") if value else None

    @property
    def WEBHOOK_SECRETS(self) -> list[str]:
        value = self.get("WEBHOOK_SECRETS")
        if value is None:
            value = os.environ.get("BABYSEA_WEBHOOK_SECRET", "")
        if isinstance(value, str):
            value = value.split(",")
        return [str(secret).strip() for secret in value if str(secret).strip()]

    @property
    def WEBHOOK_TOLERANCE(self) -> int:
        return int(self.get("WEBHOOK_TOLERANCE"))

    @property
    def STORAGE(self) -> str:
        return str(self.get("STORAGE"))

    @property
    def UPLOAD_TO(self) -> str:
        return str(self.get("UPLOAD_TO"))

    @property
    def MAX_OUTPUT_BYTES(self) -> int:
        return int(self.get("MAX_OUTPUT_BYTES"))

    @property
    def OUTPUT_HOSTS(self) -> tuple[str, ...]:
        return tuple(str(host).lower() for host in self.get("OUTPUT_HOSTS"))

    @property
    def OUTPUT_RETENTION_HOURS(self) -> float:
        return float(self.get("OUTPUT_RETENTION_HOURS"))

    @property
    def COPY_TIMEOUT(self) -> float:
        return float(self.get("COPY_TIMEOUT"))

    @property
    def KEEP_LOCAL_COPIES(self) -> bool:
        return bool(self.get("KEEP_LOCAL_COPIES"))

    @property
    def TIMEOUT(self) -> float:
        return float(self.get("TIMEOUT"))

    @property
    def MAX_RETRIES(self) -> int:
        return int(self.get("MAX_RETRIES"))

    @property
    def MAX_RETRY_AFTER(self) -> float:
        return float(self.get("MAX_RETRY_AFTER"))

    @property
    def USER_DAILY_BUDGET(self) -> Decimal | None:
        value = self.get("USER_DAILY_BUDGET")
        return None if value is None else Decimal(str(value))

    @property
    def PERMISSION_POLICY(self) -> str:
        return str(self.get("PERMISSION_POLICY"))

    @property
    def USE_CELERY(self) -> bool:
        """Whether jobs go to Celery: the shorthand flag, or ``JOB_BACKEND`` ``"celery"``."""
        return self.JOB_BACKEND == "celery"

    @property
    def JOB_BACKEND(self) -> str:
        value = self.get("JOB_BACKEND")
        if value is None:
            return "celery" if self.get("USE_CELERY") else "inline"
        return str(value)

    @property
    def TASKS_QUEUE(self) -> str:
        return str(self.get("TASKS_QUEUE"))

    @property
    def CATALOG_TTL(self) -> float:
        return float(self.get("CATALOG_TTL"))

    @property
    def DELIVERY_RETENTION_DAYS(self) -> int:
        return int(self.get("DELIVERY_RETENTION_DAYS"))

    @property
    def LEDGER_RETENTION_DAYS(self) -> int:
        return int(self.get("LEDGER_RETENTION_DAYS"))

    @property
    def BUDGET_RETENTION_DAYS(self) -> int:
        return int(self.get("BUDGET_RETENTION_DAYS"))

    @property
    def RENDITIONS(self) -> bool:
        return bool(self.get("RENDITIONS"))

    @property
    def RENDITION_WIDTHS(self) -> tuple[int, ...]:
        return tuple(sorted({int(width) for width in self.get("RENDITION_WIDTHS")}))

    @property
    def RENDITION_FORMATS(self) -> tuple[str, ...]:
        formats = (str(name).lower() for name in self.get("RENDITION_FORMATS"))
        return tuple(dict.fromkeys(formats))

    @property
    def RENDITION_QUALITY(self) -> int:
        return int(self.get("RENDITION_QUALITY"))

    @property
    def RENDITION_MAX_PIXELS(self) -> int:
        return int(self.get("RENDITION_MAX_PIXELS"))

    @property
    def FFMPEG_BINARY(self) -> str | None:
        value = self.get("FFMPEG_BINARY")
        return str(value) if value else None

    def __repr__(self) -> str:
        # Never print the key or the secrets, only whether they are set.
        return (
            f"<BabySeaSettings region={self.REGION!r} base_url={self.BASE_URL!r} "
            f"api_key={'set' if self.API_KEY else 'unset'} "
            f"webhook_secrets={len(self.WEBHOOK_SECRETS)}>"
        )


babysea_settings = BabySeaSettings()
