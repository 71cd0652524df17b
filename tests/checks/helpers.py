"""Running django-babysea's system checks the way ``manage.py check --tag django_babysea`` does."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, run_checks
from django.test import override_settings

from django_babysea.checks import TAG

GOOD: dict[str, Any] = {
    "API_KEY": "bye_checks_key_0123456789",
    "WEBHOOK_SECRETS": ["whsec_checks_secret_0123"],
}


def babysea_checks() -> list[CheckMessage]:
    """The app's own checks only. Django's model checks are left out on purpose: since Django
    6.1 ``run_checks()`` passes every database alias to them, and the JSONField check then
    queries the database, which tests without the ``django_db`` mark may not do. Leaving the
    mark off proves that the app's checks read settings only."""
    return run_checks(tags=[TAG])


def babysea_messages(**babysea: Any) -> dict[str, str]:
    """``{id: message}`` of the checks with ``BABYSEA`` = :data:`GOOD` updated by ``babysea``."""
    with override_settings(BABYSEA={**GOOD, **babysea}):
        return {m.id: m.msg for m in babysea_checks() if m.id}
