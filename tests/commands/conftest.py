from __future__ import annotations

from tests.services.conftest import MODEL, PROMPT, remote, sandbox

__all__ = ["MODEL", "PROMPT", "remote", "sandbox"]
