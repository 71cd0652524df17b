"""One generation: create, submit, refresh, cancel, delete; and the cost estimate.

A generation is submitted in two steps. :func:`submit_generation` stores the local row (with its
idempotency key, already claimed for its first send) and commits;
:func:`~django_babysea.services.sending.send_generation` then calls BabySea with that key, on a
Celery worker or inline after the commit. Because the key is stored
before the call, a send that is retried after a timeout, a dropped connection or a crash reaches
the same remote generation and never reserves credits twice. Lists of generations (poll, resend,
sync) are in :mod:`.many`.

Every remote record BabySea returns goes through
:func:`~django_babysea.services.events.apply_event`; nothing here changes a status by itself
except a cancel before BabySea knows the generation (``canceled``). No BabySea call is made
inside a database transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final, NamedTuple, cast
from uuid import UUID

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from django_babysea.client import Estimate, NotCancelableError
from django_babysea.models import Generation, GenerationKind, GenerationStatus

from . import budget, dispatch, outputs
from .connection import get_client
from .events import apply_event
from .validation import check_model_identifier, check_request

__all__ = [
    "FIELD_PREFIX",
    "GenerationNotSentError",
    "Submission",
    "cancel_generation",
    "create_generation",
    "delete_generation",
    "estimate",
    "refresh_generation",
    "refresh_generation_by_pk",
    "submit",
    "submit_generation",
]

FIELD_PREFIX: Final = "generation_"
#: BabySea's format of an ``Idempotency-Key``.
IDEMPOTENCY_KEY: Final = re.compile(r"[A-Za-z0-9_\-:.]{1,255}")

# Jobs (see :mod:`.dispatch`): run on a Celery worker or inline; they take primary keys.
send_job: Final = "send_generation"
dispatch.register("refresh_generation", f"{__name__}.refresh_generation_by_pk")


class GenerationNotSentError(ValueError):
    """The generation has no BabySea id yet: it was never accepted, so BabySea cannot act on it."""

    def __init__(self, generation: Generation) -> None:
        super().__init__(
            f"Generation {generation.pk} has not been accepted by BabySea yet "
            f"(status {generation.status})."
        )
        self.generation = generation


# -- submit -------------------------------------------------------------------------------------


def _kind(fields: Mapping[str, Any]) -> GenerationKind:
    # The client picks the video route exactly when generation_duration is given.
    if fields.get("generation_duration") is not None:
        return GenerationKind.VIDEO
    return GenerationKind.IMAGE


def create_generation(
    model_identifier: str,
    fields: Mapping[str, Any],
    *,
    owner: AbstractBaseUser | None = None,
    idempotency_key: str | None = None,
) -> Generation:
    """Store a new local generation in ``created``; nothing is sent.

    ``fields`` are the ``generation_*`` body fields (``None`` values are dropped).
    ``idempotency_key`` (1-255 of ``A-Z a-z 0-9 _ - : .``, unique) replaces the default
    ``django-babysea:<local id>``. Raises ``ValueError``, before anything is written, for an
    empty or over-long model, a missing prompt, a key without the prefix, a malformed
    idempotency key, or a value JSON cannot hold (an infinite number, a NUL character, an
    object that is not JSON).
    """
    return _store_generation(
        model_identifier, fields, owner=owner, idempotency_key=idempotency_key, stored={}
    )


def _store_generation(
    model_identifier: str,
    fields: Mapping[str, Any],
    *,
    owner: AbstractBaseUser | None,
    idempotency_key: str | None,
    stored: Mapping[str, Any],
) -> Generation:
    """:func:`create_generation`, with ``stored`` field values set on the row before its
    ``INSERT`` (one statement)."""
    model = check_model_identifier(model_identifier)
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ValueError(
            "An idempotency key is 1 to 255 characters from A-Z, a-z, 0-9, '_', '-', ':' and '.'."
        )
    request = {key: value for key, value in fields.items() if value is not None}
    unknown = sorted(key for key in request if not key.startswith(FIELD_PREFIX))
    if unknown:
        raise ValueError(
            f"Unknown field(s) {', '.join(unknown)}: BabySea fields start with '{FIELD_PREFIX}'."
        )
    prompt = request.get("generation_prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("generation_prompt is required.")
    check_request(request)
    generation = Generation(
        kind=_kind(request),
        model_identifier=model,
        prompt=prompt,
        request=request,
        # AUTH_USER_MODEL may be a custom model; the stubs only know the default one.
        owner=cast(Any, owner),
        idempotency_key=idempotency_key or "",
    )
    for name, value in stored.items():
        setattr(generation, name, value)
    generation.save(force_insert=True)
    return generation


class Submission(NamedTuple):
    """What :func:`submit` did: the stored row, and whether this call inserted it."""

    generation: Generation
    created: bool


def submit_generation(
    model_identifier: str,
    *,
    owner: AbstractBaseUser | None = None,
    idempotency_key: str | None = None,
    **fields: Any,
) -> Generation:
    """Create the local row, commit it, then send it to BabySea with
    :func:`~django_babysea.services.sending.send_generation` (on Celery when ``USE_CELERY`` is
    on, else inline after the commit).

    Returns the row as stored; inline, it is re-read after the send. An inline send that
    fails with a retryable error raises it (the row stays ``created`` with the error).
    With an ``idempotency_key`` that a row already has (a form posted twice), that row is
    returned as it is: nothing is created or sent again. With an ``owner`` and
    ``USER_DAILY_BUDGET`` set, the cost is reserved on the owner's budget of the day, or
    :class:`~django_babysea.services.budget.BudgetExceededError` is raised before anything
    is stored or sent.
    """
    return submit(
        model_identifier, owner=owner, idempotency_key=idempotency_key, **fields
    ).generation


def submit(
    model_identifier: str,
    *,
    owner: AbstractBaseUser | None = None,
    idempotency_key: str | None = None,
    priced: Decimal | None = None,
    **fields: Any,
) -> Submission:
    """:func:`submit_generation`, also telling whether this call created the row.

    ``created`` comes from the INSERT itself, not from the look-up before it: of concurrent
    calls with one ``idempotency_key``, exactly one is told it created the row.

    ``priced`` is :func:`~django_babysea.services.budget.budgeted_cost` computed by a caller
    that submits inside its own transaction, so that no estimate request is made within it.
    """
    if idempotency_key is not None:
        existing = Generation.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return Submission(existing, False)
    # Priced before the transaction: the cost may come from BabySea's estimate.
    cost = priced
    if cost is None:
        cost = budget.budgeted_cost(owner, check_model_identifier(model_identifier), fields)
    # The row is stored already claimed for its first send (attempt 1), and that send is told
    # so: one commit before BabySea's create call instead of an insert and a claim.
    claim = {"send_attempts": 1, "send_claimed_at": timezone.now(), "cost_reserved": cost}
    # Outside any transaction and with inline jobs, the send follows our commit in this thread:
    # it is called directly, with the row in hand, instead of from a commit hook.
    send_here = not transaction.get_connection().in_atomic_block and dispatch.runs_inline_now()
    try:
        with transaction.atomic():
            generation = _store_generation(
                model_identifier, fields, owner=owner, idempotency_key=idempotency_key, stored=claim
            )
            if cost is not None:
                budget.reserve(generation, cost)  # over budget: raises, nothing is stored
            if not send_here:
                dispatch.run_later(send_job, str(generation.pk), generation.send_attempts)
    except IntegrityError:
        # The same key stored by a concurrent call between our look-up and our insert; any
        # other integrity error is ours to raise.
        winner = None
        if idempotency_key is not None:
            winner = Generation.objects.filter(idempotency_key=idempotency_key).first()
        if winner is None:
            raise
        return Submission(winner, False)
    if send_here:
        # The claim was committed by this thread an instant ago, and no one takes a claim
        # younger than sending.claim_ttl(): the send need not read it again, and it returns
        # the row as BabySea's answer left it.
        send = dispatch.job(send_job)
        sent: Generation = send(str(generation.pk), generation.send_attempts, claimed=generation)
        return Submission(sent, True)
    generation.refresh_from_db()
    return Submission(generation, True)


# -- one generation -----------------------------------------------------------------------------


def _remote_id(generation: Generation) -> str:
    if generation.generation_id is None:
        raise GenerationNotSentError(generation)
    return str(generation.generation_id)


def _apply(remote: Mapping[str, Any], generation: Generation, *, source: str) -> Generation:
    applied = apply_event(remote, source=source)
    if applied is None:  # the row was deleted meanwhile
        raise Generation.DoesNotExist(f"Generation {generation.pk} no longer exists.")
    return applied


def refresh_generation(generation: Generation) -> Generation:
    """Fetch BabySea's record of ``generation`` and apply it; returns the updated row."""
    record = get_client().get_generation(_remote_id(generation))
    return _apply(record.raw, generation, source="poll")


def refresh_generation_by_pk(pk: UUID | str) -> Generation:
    """:func:`refresh_generation` of the row ``pk`` (the ``refresh_generation`` job)."""
    return refresh_generation(Generation.objects.get(pk=pk))


def cancel_generation(generation: Generation) -> Generation:
    """Cancel ``generation``: at BabySea when it was accepted, locally when BabySea does not
    know it yet.

    Never waits for a send in progress: a row whose create call is still out is marked
    ``canceled`` at once, and the send, when its answer brings an id, cancels the generation at
    BabySea (whose answer then decides the final status and settlement). Raises
    :class:`~django_babysea.client.NotCancelableError` (BSE2012/BSE2013) when BabySea refuses;
    the row is refreshed first, so it shows the status that made the cancel fail.
    """
    with transaction.atomic():
        # A short lock: sends hold none while BabySea is called.
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        if locked.generation_id is None:
            if locked.status == GenerationStatus.CREATED:
                locked.status = GenerationStatus.CANCELED
                locked.completed_at = timezone.now()
                locked.save(update_fields=["status", "completed_at", "updated_at"])
                budget.release(locked)
            return locked
    try:
        result = get_client().cancel_generation(_remote_id(locked))
    except NotCancelableError:
        refresh_generation(locked)
        raise
    return _apply({"generation_status": "canceled", **result.raw}, locked, source="cancel")


def delete_generation(generation: Generation) -> Generation:
    """Delete the output files at BabySea (the record stays there and here) and mark the row
    ``removed``, then delete the local copies unless ``BABYSEA["KEEP_LOCAL_COPIES"]`` keeps
    them. Only terminal generations can be deleted (BabySea answers BSE2001 otherwise)."""
    get_client().delete_generation(_remote_id(generation))
    generation = refresh_generation(generation)
    outputs.delete_local_copies(generation)
    return generation


def estimate(
    model_identifier: str,
    *,
    count: int | None = None,
    duration: int | None = None,
    resolution: str | None = None,
    audio: bool | None = None,
) -> Estimate:
    """BabySea's cost estimate for a generation (no credits used)."""
    return get_client().estimate(
        model_identifier, count=count, duration=duration, resolution=resolution, audio=audio
    )
