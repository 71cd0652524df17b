"""Submit a generation whose outputs go into the image library.

The generation is submitted by the same service as the admin and the REST API
(:func:`django_babysea.services.generations.submit`: catalog validation, the daily budget, the
idempotency key, the send after commit), and its :class:`LibraryTarget` is stored in the same
transaction, so a generation is never sent without knowing where its outputs go, and a refused
one leaves neither behind.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.log_actions import log
from wagtail.models import Collection

from django_babysea.client import BabySeaError
from django_babysea.contrib.wagtail.models import LibraryTarget
from django_babysea.contrib.wagtail.permissions import can_generate, default_collection
from django_babysea.models import Generation
from django_babysea.services import budget, catalog_is_fresh, load_catalog, validate_request
from django_babysea.services.generations import Submission, submit

__all__ = [
    "GENERATE_ACTION",
    "MAX_ALT_TEXT",
    "MAX_TAG",
    "MAX_TITLE",
    "alt_text_from_prompt",
    "clean_tags",
    "submit_to_library",
    "title_from_prompt",
]

#: The audit-log action of a generation submitted from Wagtail.
GENERATE_ACTION: Final = "babysea_wagtail.generate"
#: Wagtail's image title and description (alt text) columns; taggit's tag names.
MAX_TITLE: Final = 255
MAX_ALT_TEXT: Final = 255
MAX_TAG: Final = 100
#: Titles drafted from a prompt stay short enough to read in the library's listing.
DRAFT_TITLE: Final = 80

logger = logging.getLogger("django_babysea.wagtail")

_SPACE = re.compile(r"\s+")


def _shortened(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return f"{cut or text[: limit - 1]}…"


def title_from_prompt(prompt: str) -> str:
    """The image title drafted from a prompt: its start, on one line."""
    return _shortened(prompt, DRAFT_TITLE)


def alt_text_from_prompt(prompt: str) -> str:
    """The alt text drafted from a prompt: what was asked for is what the image shows."""
    return _shortened(prompt, MAX_ALT_TEXT)


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Stripped, non-empty, without repeats (case-insensitively, as taggit matches them);
    ``ValidationError`` for a tag longer than taggit stores."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in tags:
        tag = _SPACE.sub(" ", str(raw)).strip()
        if not tag or tag.casefold() in seen:
            continue
        if len(tag) > MAX_TAG:
            raise ValidationError(
                {"tags": [_("A tag is at most %(limit)d characters long.") % {"limit": MAX_TAG}]}
            )
        seen.add(tag.casefold())
        cleaned.append(tag)
    return cleaned


def _check_lengths(title: str, description: str) -> None:
    errors: dict[str, list[str]] = {}
    if len(title) > MAX_TITLE:
        errors["title"] = [
            _("A title is at most %(limit)d characters long.") % {"limit": MAX_TITLE}
        ]
    if len(description) > MAX_ALT_TEXT:
        errors["description"] = [
            _("Alt text is at most %(limit)d characters long.") % {"limit": MAX_ALT_TEXT}
        ]
    if errors:
        raise ValidationError(errors)


def _target_collection(user: Any, collection: Collection | None) -> Collection:
    chosen = collection if collection is not None else default_collection(user)
    if chosen is None or not can_generate(user, chosen):
        raise PermissionDenied(
            _("You may not generate images into this collection.")
            if collection is not None
            else _("You may not generate images.")
        )
    return chosen


def submit_to_library(
    user: Any,
    model_identifier: str,
    fields: Mapping[str, Any],
    *,
    collection: Collection | None = None,
    title: str = "",
    description: str = "",
    tags: Iterable[str] = (),
    idempotency_key: str | None = None,
) -> Submission:
    """Submit a generation for ``user`` whose outputs are imported into the image library
    (videos into wagtailmedia's) once they are stored.

    ``fields`` are the ``generation_*`` fields, validated against the cached catalog (fetched
    when stale). ``collection`` defaults to the first one ``user`` may add images to; ``title``
    and ``description`` (alt text) default to the prompt. Raises
    :class:`~django.core.exceptions.PermissionDenied` when ``user`` may not submit or not add
    images to the collection, :class:`~django.core.exceptions.ValidationError` (a
    ``message_dict`` by field) for a request the catalog refuses or a title, alt text or tag
    too long, and :class:`~django_babysea.services.BudgetExceededError` over the daily budget;
    in every case nothing is stored or sent. With an ``idempotency_key`` already used, the
    first submission is returned unchanged (``created`` is False).
    """
    target_collection = _target_collection(user, collection)
    tag_list = clean_tags(tags)
    _check_lengths(title.strip(), description.strip())
    if not catalog_is_fresh():
        load_catalog()  # validation reads the cached catalog; a remote call, so before any write
    cleaned = validate_request(model_identifier, fields)
    prompt = str(cleaned.get("generation_prompt", ""))
    # Priced before our transaction: the price may be BabySea's estimate, a remote call.
    priced = budget.budgeted_cost(user, model_identifier, cleaned)
    # One transaction: the generation, its budget reservation, its target and the audit-log
    # entry commit together, and the send (queued on commit) only starts once they have.
    stored = False
    try:
        with transaction.atomic():
            submission = submit(
                model_identifier,
                owner=user,
                idempotency_key=idempotency_key,
                priced=priced,
                **cleaned,
            )
            if not submission.created:
                return submission
            _store_target(
                submission.generation,
                user,
                target_collection,
                prompt,
                title=title,
                description=description,
                tags=tag_list,
            )
            stored = True
    except BabySeaError:
        if not stored:
            raise
        # The inline send after the commit could not reach BabySea: the generation and its
        # target are stored, the error is on the row, and babysea_resend sends it again.
        logger.warning("Generation %s is stored but its send failed.", submission.generation.pk)
    submission.generation.refresh_from_db()  # the send ran on commit
    return submission


def _store_target(
    generation: Generation,
    user: Any,
    collection: Collection,
    prompt: str,
    *,
    title: str,
    description: str,
    tags: list[str],
) -> None:
    LibraryTarget.objects.create(
        generation=generation,
        collection=collection,
        title=title.strip() or title_from_prompt(prompt),
        description=description.strip() or alt_text_from_prompt(prompt),
        tags=tags,
        requested_by=user,
    )
    cost = generation.cost_reserved
    data = {
        "model": generation.model_identifier,
        "collection": collection.pk,
        "cost_reserved": None if cost is None else str(cost),
    }
    log(generation, GENERATE_ACTION, user=user, data=data)
