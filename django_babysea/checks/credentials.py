"""Checks of the settings shape, the API key, the region, BASE_URL and the webhook secrets."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from django_babysea.conf import KNOWN_KEYS, REGIONS, babysea_settings

# defaults.py holds constants only: importing it starts no sandbox and loads no server code.
from django_babysea.sandbox.defaults import DEMO_API_KEY, DEMO_WEBHOOK_SECRET

from .base import TAG, error, setting_name, settings_is_dict

API_KEY_RE = re.compile(r"^bye_[A-Za-z0-9_-]+$")
WEBHOOK_SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9_-]+$")


@register(Tags.compatibility, TAG)
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
            f"{setting_name(key)} is not a django-babysea setting and is ignored.",
            hint=f"Known settings: {', '.join(sorted(KNOWN_KEYS))}.",
            id="django_babysea.W002",
        )
        for key in unknown
    ]


@register(Tags.compatibility, TAG)
def check_credentials(**kwargs: Any) -> list[CheckMessage]:
    if not settings_is_dict():
        return []
    messages: list[CheckMessage] = []
    key = babysea_settings.API_KEY
    if not key:
        messages.append(
            error(
                "API_KEY",
                "is not set.",
                "Set BABYSEA['API_KEY'] or the BABYSEA_API_KEY environment variable.",
                1,
            )
        )
    elif not API_KEY_RE.match(key):
        messages.append(
            error(
                "API_KEY",
                "does not look like a BabySea API key.",
                "Keys start with 'bye_' followed by letters, digits, '-' or '_'.",
                3,
            )
        )
    region = babysea_settings.get("REGION")
    if region not in REGIONS:
        messages.append(error("REGION", f"is {region!r}.", f"Use one of: {', '.join(REGIONS)}.", 2))
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
            error(
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
        return [error("WEBHOOK_SECRETS", "must be a list of strings.", None, 5)]
    secrets = babysea_settings.WEBHOOK_SECRETS
    if not secrets:
        if settings.DEBUG:
            return []
        return [
            Warning(
                f"{setting_name('WEBHOOK_SECRETS')} is empty: every webhook delivery will be "
                "refused.",
                hint="Set BABYSEA['WEBHOOK_SECRETS'] or the BABYSEA_WEBHOOK_SECRET environment "
                "variable to the signing secret of your BabySea webhook endpoint.",
                id="django_babysea.W001",
            )
        ]
    bad = [index for index, secret in enumerate(secrets) if not WEBHOOK_SECRET_RE.match(secret)]
    return [
        error(
            "WEBHOOK_SECRETS",
            f"entry {index} does not look like a BabySea signing secret.",
            "Signing secrets start with 'whsec_'.",
            5,
        )
        for index in bad
    ]


@register(Tags.compatibility, TAG)
def check_demo_credentials(**kwargs: Any) -> list[CheckMessage]:
    """The sandbox's demo key and secret are published: with the demo secret configured, anyone
    can sign webhooks the site accepts. An error in production, a warning while DEBUG is on."""
    if not settings_is_dict() or not isinstance(
        babysea_settings.get("WEBHOOK_SECRETS"), str | Sequence | None
    ):
        return []
    found = []
    if babysea_settings.API_KEY == DEMO_API_KEY:
        found.append(("API_KEY", "is the public demo key"))
    if DEMO_WEBHOOK_SECRET in babysea_settings.WEBHOOK_SECRETS:
        found.append(("WEBHOOK_SECRETS", "contains the public demo signing secret"))
    hint = (
        "The sandbox's demo credentials are public and only meant for local development. Use "
        "the API key and the webhook signing secret of your BabySea account (BABYSEA_API_KEY, "
        "BABYSEA_WEBHOOK_SECRET)."
    )
    if settings.DEBUG:
        return [
            Warning(
                f"{setting_name(key)} {what} of the django-babysea sandbox.",
                hint=hint,
                id="django_babysea.W004",
            )
            for key, what in found
        ]
    return [
        error(key, f"{what} of the django-babysea sandbox, and DEBUG is off.", hint, 11)
        for key, what in found
    ]
