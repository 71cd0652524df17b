"""``python -m django_babysea.sandbox``: run the local BabySea API (see ``--help``)."""

from __future__ import annotations

from django_babysea.sandbox.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
