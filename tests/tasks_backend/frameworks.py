"""Which Tasks framework the tests run on, and the backend settings they use.

Django 6 has ``django.tasks`` built in; on Django 5.2 the ``django-tasks`` backport provides the
same API as ``django_tasks``. Importing this module imports neither.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any, Final

FRAMEWORK: Final = "django.tasks" if find_spec("django.tasks") else "django_tasks"

#: The queue the django-babysea jobs go to in the worker tests (``BABYSEA["TASKS_QUEUE"]``).
QUEUE: Final = "babysea"

#: ``TASKS`` of the worker and of the test process in the worker tests.
DATABASE_TASKS: Final[dict[str, Any]] = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", QUEUE]}
}


def backend(name: str) -> str:
    """The dotted path of the framework's ``immediate`` or ``dummy`` backend."""
    return f"{FRAMEWORK}.backends.{name}.{name.capitalize()}Backend"


def tasks_setting(name: str, **params: Any) -> dict[str, Any]:
    """``TASKS`` with the framework's backend ``name`` as the default."""
    return {"default": {"BACKEND": backend(name), **params}}
