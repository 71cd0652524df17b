"""Documented defaults of the sandbox, importable without starting anything."""

from __future__ import annotations

from typing import Final

#: The key the sandbox accepts when it is started without ``--api-key`` (full-access, region us).
DEMO_API_KEY: Final = "bye_sandbox_demo_0123456789abcdef0123456789abcdef"
#: The secret the sandbox signs webhooks with when none is given.
DEMO_WEBHOOK_SECRET: Final = "whsec_SandboxDemoSecret0123456789abcd"  # noqa: S105 (public demo value)
DEFAULT_PORT: Final = 8765
