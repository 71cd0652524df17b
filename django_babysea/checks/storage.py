"""Checks of where output copies go: the storage alias (E006, W005) and UPLOAD_TO (E007)."""

from __future__ import annotations

import re
import string
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.core.files.storage import FileSystemStorage, storages
from django.utils.module_loading import import_string

from django_babysea.conf import babysea_settings

from .base import TAG, error, setting_name, settings_is_dict

UPLOAD_TO_FIELDS = frozenset({"generation_id", "index", "ext", "model", "kind"})
UPLOAD_TO_REQUIRED = ("generation_id", "index")
UPLOAD_TO_HINT = (
    "A relative path template with strftime codes and the plain fields "
    "{generation_id}, {index}, {ext}, {model}, {kind} (no format specs, conversions, attribute "
    "or index access); it must contain {generation_id} and {index} so that no two outputs share "
    "a name."
)


@register(Tags.compatibility, TAG)
def check_storage(**kwargs: Any) -> list[CheckMessage]:
    if not settings_is_dict():
        return []
    messages: list[CheckMessage] = []
    alias = babysea_settings.get("STORAGE")
    storages = getattr(settings, "STORAGES", {})
    if alias not in storages:
        messages.append(
            error(
                "STORAGE",
                f"is {alias!r}, which is not an alias in STORAGES.",
                f"Use one of: {', '.join(sorted(map(str, storages))) or '(none defined)'}.",
                6,
            )
        )
    else:
        messages += _check_file_system_location(alias)
    messages += _check_upload_to(babysea_settings.get("UPLOAD_TO"))
    return messages


def _check_file_system_location(alias: str) -> list[CheckMessage]:
    """W005: a file-system storage with no location writes copies relative to the current
    directory of whichever process copies them (a worker, a command, the web server)."""
    config = settings.STORAGES[alias]
    try:
        backend = import_string(config["BACKEND"])
    except (ImportError, KeyError, TypeError):
        return []  # Django reports a broken STORAGES entry itself, when the storage is used.
    if not (isinstance(backend, type) and issubclass(backend, FileSystemStorage)):
        return []
    # Building a FileSystemStorage touches no disk; base_location is OPTIONS['location'] or
    # MEDIA_ROOT as given, before it is made absolute (and '' would become the current dir).
    storage = storages[alias]
    if not isinstance(storage, FileSystemStorage) or storage.base_location:
        return []
    return [
        Warning(
            f"{setting_name('STORAGE')} is {alias!r}, a file-system storage with no location: "
            "output copies would land in the current directory of whichever process copies "
            "them.",
            hint=f"Set MEDIA_ROOT, or OPTIONS['location'] of STORAGES[{alias!r}], to an "
            "absolute directory.",
            id="django_babysea.W005",
        )
    ]


def _field_text(name: str, spec: str | None, conversion: str | None) -> str:
    return (
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )


def _check_upload_to(template: object) -> list[CheckMessage]:
    if not isinstance(template, str) or not template.strip():
        return [error("UPLOAD_TO", "must be a non-empty string.", UPLOAD_TO_HINT, 7)]
    try:
        parsed = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        return [error("UPLOAD_TO", f"is not a valid template ({exc}).", UPLOAD_TO_HINT, 7)]
    problems: list[str] = []
    # Only plain names: a spec, a conversion or an attribute/index lookup would reach into the
    # values (or fail only when the first output is copied).
    decorated = [_field_text(n, s, c) for n, s, c in parsed if s or c]
    if decorated:
        problems.append(f"uses format specs or conversions in {', '.join(decorated)}")
    accessed = [_field_text(n, None, None) for n, _, _ in parsed if re.search(r"[.\[]", n)]
    if accessed:
        problems.append(f"uses attribute or index access in {', '.join(accessed)}")
    fields = {re.split(r"[.\[]", name, maxsplit=1)[0] for name, _, _ in parsed}
    if unknown := sorted(fields - UPLOAD_TO_FIELDS):
        problems.append(f"uses unknown field(s) {', '.join('{' + f + '}' for f in unknown)}")
    if missing := [f for f in UPLOAD_TO_REQUIRED if f not in fields]:
        problems.append(f"lacks {', '.join('{' + f + '}' for f in missing)}")
    if template.startswith(("/", "\\")) or ".." in template.replace("\\", "/").split("/"):
        problems.append("must be a relative path without '..'")
    return [error("UPLOAD_TO", f"{problem}.", UPLOAD_TO_HINT, 7) for problem in problems]
