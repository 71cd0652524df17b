"""The example site. Its Celery app is loaded with it, so the site sends tasks through it."""

try:
    from .celery import app as celery_app
except ModuleNotFoundError as exc:  # Celery is optional: without it the work runs inline.
    if exc.name != "celery":
        raise
    celery_app = None

__all__ = ["celery_app"]
