"""A stateful local stand-in for the BabySea API (contract in docs/sandbox.md).

Importing this package is cheap: :class:`Sandbox` and friends load on first access, so the pytest
plugin can live in every project without pulling in the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_babysea.sandbox.defaults import DEFAULT_PORT, DEMO_API_KEY, DEMO_WEBHOOK_SECRET

if TYPE_CHECKING:
    from django_babysea.sandbox.app import Sandbox
    from django_babysea.sandbox.config import WebhookSpec
    from django_babysea.sandbox.faults.injection import Fault
    from django_babysea.sandbox.state.accounts import KeySpec
    from django_babysea.sandbox.state.agenda import Retention

__all__ = [
    "DEFAULT_PORT",
    "DEMO_API_KEY",
    "DEMO_WEBHOOK_SECRET",
    "Fault",
    "KeySpec",
    "Retention",
    "Sandbox",
    "WebhookSpec",
]

_LAZY = {
    "Sandbox": "django_babysea.sandbox.app",
    "KeySpec": "django_babysea.sandbox.state.accounts",
    "WebhookSpec": "django_babysea.sandbox.config",
    "Fault": "django_babysea.sandbox.faults.injection",
    "Retention": "django_babysea.sandbox.state.agenda",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
