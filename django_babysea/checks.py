"""System checks for the ``BABYSEA`` setting. Each message names the exact key at fault.

Ids: ``django_babysea.E0xx`` for errors that break the integration, ``W0xx`` for warnings.
Messages never contain the API key or a webhook secret, only what is wrong with them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .conf import KNOWN_KEYS, REGIONS, babysea_settings

API_KEY_RE = re.compile(r"^bye_[A-Za-z0-9_-]+$")
WEBHOOK_SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9_-]+$")
UPLOAD_TO_FIELDS = frozenset({"generation_id", "index", "ext", "model", "kind"})
UPLOAD_TO_REQUIRED = ("generation_id", "index")


def _setting(key: str) -> str:
    return f"BABYSEA[{key!r}]"


def _error(key: str, msg: str, hint: str | None, code: int) -> Error:
    return Error(f"{_setting(key)} {msg}", hint=hint, id=f"django_babysea.E{code:03d}")


@register(Tags.compatibility)
def check_settings_shape(**kwargs: Any) -> list[CheckMessage]:
    value = getattr(settings, "BABYSEA", {})
    if not isinstance(value, Mapping):
        return [
            Error(
                "BABYSEA must be a dict of settings.",
                hint="See the settings reference in the django-babysea docs.",
                id="django_babysea.E010",
            )
        ]
    unknown = sorted(str(key) for key in value if key not in KNOWN_KEYS)
    return [
        Warning(
            f"{_setting(key)} is not a django-babysea setting and is ignored.",
            hint=f"Known settings: {', '.join(sorted(KNOWN_KEYS))}.",
            id="django_babysea.W002",
        )
        for key in unknown
    ]


@register(Tags.compatibility)
def check_credentials(**kwargs: Any) -> list[CheckMessage]:
    if not isinstance(getattr(settings, "BABYSEA", {}), Mapping):
        return []
    messages: list[CheckMessage] = []
    key = babysea_settings.API_KEY
    if not key:
        messages.append(
            _error(
                "API_KEY",
                "is not set.",
                "Set BABYSEA['API_KEY'] or the BABYSEA_API_KEY environment variable.",
                1,
            )
        )
    elif not API_KEY_RE.match(key):
        messages.append(
            _error(
                "API_KEY",
                "does not look like a BabySea API key.",
                "Keys start with 'bye_' followed by letters, digits, '-' or '_'.",
                3,
            )
        )
    region = babysea_settings.get("REGION")
    if region not in REGIONS:
        messages.append(
            _error("REGION", f"is {region!r}.", f"Use one of: {', '.join(REGIONS)}.", 2)
        )
    messages += _check_base_url()
    messages += _check_webhook_secrets()
    return messages


def _check_base_url() -> list[CheckMessage]:
    base_url = babysea_settings.get("BASE_URL")
    if base_url is None:
        return []
    parts = urlsplit(str(base_url))
    if not isinstance(base_url, str) or parts.scheme not in ("http", "https") or not parts.netloc:
        return [
            _error(
                "BASE_URL",
                "is not an http(s) URL.",
                "Give an origin such as 'http://127.0.0.1:8765', or None for the region's.",
                4,
            )
        ]
    return []


def _check_webhook_secrets() -> list[CheckMessage]:
    raw = babysea_settings.get("WEBHOOK_SECRETS")
    if raw is not None and not isinstance(raw, str | Sequence):
        return [_error("WEBHOOK_SECRETS", "must be a list of strings.", None, 5)]
    secrets = babysea_settings.WEBHOOK_SECRETS
    if not secrets:
        if settings.DEBUG:
            return []
        return [
            Warning(
                f"{_setting('WEBHOOK_SECRETS')} is empty: every webhook delivery will be refused.",
                hint="Set BABYSEA['WEBHOOK_SECRETS'] or the BABYSEA_WEBHOOK_SECRET environment "
                "variable to the signing secret of your BabySea webhook endpoint.",
                id="django_babysea.W001",
            )
        ]
    bad = [index for index, secret in enumerate(secrets) if not WEBHOOK_SECRET_RE.match(secret)]
    return [
        _error(
            "WEBHOOK_SECRETS",
            f"entry {index} does not look like a BabySea signing secret.",
            "Signing secrets start with 'whsec_'.",
            5,
        )
        for index in bad
    ]


@register(Tags.compatibility)
def check_storage(**kwargs: Any) -> list[CheckMessage]:
    if not isinstance(getattr(settings, "BABYSEA", {}), Mapping):
        return []
    messages: list[CheckMessage] = []
    alias = babysea_settings.get("STORAGE")
    storages = getattr(settings, "STORAGES", {})
    if alias not in storages:
        messages.append(
            _error(
                "STORAGE",
                f"is {alias!r}, which is not an alias in STORAGES.",
                f"Use one of: {', '.join(sorted(map(str, storages))) or '(none defined)'}.",
                6,
            )
        )
    messages += _check_upload_to(babysea_settings.get("UPLOAD_TO"))
    return messages


def _check_upload_to(template: object) -> list[CheckMessage]:
    hint = (
        "A relative path template with strftime codes and the fields "
        "{generation_id}, {index}, {ext}, {model}, {kind}; it must contain "
        "{generation_id} and {index} so that no two outputs share a name."
    )
    if not isinstance(template, str) or not template.strip():
        return [_error("UPLOAD_TO", "must be a non-empty string.", hint, 7)]
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        return [_error("UPLOAD_TO", f"is not a valid template ({exc}).", hint, 7)]
    problems: list[str] = []
    if unknown := sorted(fields - UPLOAD_TO_FIELDS):
        problems.append(f"uses unknown field(s) {', '.join('{' + f + '}' for f in unknown)}")
    if missing := [f for f in UPLOAD_TO_REQUIRED if f not in fields]:
        problems.append(f"lacks {', '.join('{' + f + '}' for f in missing)}")
    if template.startswith(("/", "\\")) or ".." in template.replace("\\", "/").split("/"):
        problems.append("must be a relative path without '..'")
    return [_error("UPLOAD_TO", f"{problem}.", hint, 7) for problem in problems]


@register(Tags.compatibility)
def check_limits(**kwargs: Any) -> list[CheckMessage]:
    if not isinstance(getattr(settings, "BABYSEA", {}), Mapping):
        return []
    messages: list[CheckMessage] = []
    rules: list[tuple[str, bool, float, str]] = [
        ("WEBHOOK_TOLERANCE", True, 1, "a whole number of seconds, at least 1"),
        ("TIMEOUT", False, 0.001, "a positive number of seconds"),
        ("MAX_RETRIES", True, 0, "a whole number, 0 or more"),
        ("MAX_OUTPUT_BYTES", True, 1, "a positive whole number of bytes"),
        ("DELIVERY_RETENTION_DAYS", True, 1, "a whole number of days, at least 1"),
        ("LEDGER_RETENTION_DAYS", True, 1, "a whole number of days, at least 1"),
        ("OUTPUT_RETENTION_HOURS", False, 0.001, "a positive number of hours"),
        ("COPY_TIMEOUT", False, 1, "a number of seconds, at least 1"),
    ]
    for key, whole, minimum, expected in rules:
        value = babysea_settings.get(key)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (whole and not isinstance(value, int)) or value < minimum:
            messages.append(_error(key, f"is {value!r}; expected {expected}.", None, 8))
    hosts = babysea_settings.get("OUTPUT_HOSTS")
    if (
        isinstance(hosts, str)
        or not isinstance(hosts, Sequence)
        or not all(isinstance(host, str) and host for host in hosts)
    ):
        messages.append(
            _error("OUTPUT_HOSTS", "must be a list of host names.", "e.g. ['cdn.us.babysea.ai']", 8)
        )
    messages += _check_budget(babysea_settings.get("USER_DAILY_BUDGET"))
    if not isinstance(babysea_settings.get("KEEP_LOCAL_COPIES"), bool):
        messages.append(_error("KEEP_LOCAL_COPIES", "must be True or False.", None, 8))
    if not isinstance(babysea_settings.get("USE_CELERY"), bool):
        messages.append(_error("USE_CELERY", "must be True or False.", None, 8))
    elif babysea_settings.USE_CELERY:
        try:
            import celery  # noqa: F401
        except ImportError:
            messages.append(
                _error(
                    "USE_CELERY",
                    "is on but Celery is not installed.",
                    'pip install "django-babysea[celery]"',
                    9,
                )
            )
    return messages


def _check_budget(value: object) -> list[CheckMessage]:
    if value is None:
        return []
    try:
        ok = not isinstance(value, bool) and Decimal(str(value)) > 0
    except InvalidOperation:
        ok = False
    if ok:
        return []
    return [
        _error(
            "USER_DAILY_BUDGET",
            f"is {value!r}; expected None or a positive number of credits.",
            None,
            8,
        )
    ]
