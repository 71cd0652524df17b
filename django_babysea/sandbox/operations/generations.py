"""Create, read, list, delete and cancel generations (contract 2.7-2.11, 5, 6)."""

from __future__ import annotations

import time
from typing import Any

from django_babysea.sandbox.contract.catalog import MediaType
from django_babysea.sandbox.contract.errors import ApiError, invalid
from django_babysea.sandbox.contract.pricing import Cost, cost_of
from django_babysea.sandbox.http.envelopes import Request, Response, success
from django_babysea.sandbox.operations.validation import (
    GenerationInput,
    query_int,
    validate_generation,
    validate_idempotency_key,
)
from django_babysea.sandbox.state import ledger
from django_babysea.sandbox.state.idempotency import Stored, fingerprint
from django_babysea.sandbox.state.lifecycle import Event
from django_babysea.sandbox.state.records import Generation
from django_babysea.sandbox.state.region import Caller, Region

__all__ = ["cancel", "delete", "generate_image", "generate_video", "get", "list_generations"]

Params = dict[str, str]
CREATED = "Generation initialized"


def generate_image(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    return _generate(region, caller, request, params["model"], "image")


def generate_video(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    return _generate(region, caller, request, params["model"], "video")


def _validate(
    region: Region, request: Request, identifier: str, route: MediaType
) -> tuple[GenerationInput, Cost, str | None]:
    if request.body_too_large:
        raise ApiError("BSE2010", details={"max_bytes": region.config.max_body_bytes})
    given = validate_generation(region.catalog, route, identifier, request.body)
    cost = cost_of(
        given.model,
        duration=given.duration,
        resolution=given.resolution,
        audio=given.generate_audio,
    )
    key = validate_idempotency_key(request.header("Idempotency-Key"))
    fault = region.faults.take("input_file_error", model=identifier, path=request.path)
    if fault is not None and fault.code is not None:
        raise ApiError(fault.code, details={"field": "generation_input_file"})
    return given, cost, key


def _generate(
    region: Region, caller: Caller, request: Request, identifier: str, route: MediaType
) -> Response:
    given, cost, key = _validate(region, request, identifier, route)
    account_id = caller.account.account_id
    if key is not None:
        print_ = fingerprint(route, identifier, given.body)
        stored = region.idempotency.begin(account_id, key, print_, region.clock.now())
        if stored is not None:
            return _replay(region, stored)
    if request.processing_delay:
        time.sleep(request.processing_delay)  # a slow create holds its claim meanwhile
        request.processing_delay = 0.0
    events: list[Event] = []
    try:
        generation, response = _create(region, caller, given, cost, events)
    except BaseException:
        if key is not None:
            region.idempotency.release(account_id, key)
        raise
    finally:
        region.publish(events)
    if key is not None:
        region.idempotency.complete(
            account_id, key, response.status, response.body, generation.generation_id
        )
    _webhooks_first(region, request, generation)
    return response


def _replay(region: Region, stored: Stored) -> Response:
    with region.store.lock:
        generation = region.store.generations.get(stored.generation_id or "")
        canceled = generation is not None and generation.status == "canceled"
    if canceled and generation is not None:
        data = {"generation_id": generation.generation_id, "generation_status": "canceled"}
        response = success(region.ids, region.clock, CREATED, data)
    else:
        response = Response(stored.status, stored.body)
    response.headers["Idempotency-Replayed"] = "true"
    return response


def _low_balance(caller: Caller, alert: dict[str, Any] | None) -> list[Event]:
    if alert is None or not caller.account.low_balance_webhook:
        return []
    return [Event(caller.account.name, "credits.low_balance", alert, None)]


def _create(
    region: Region, caller: Caller, given: GenerationInput, cost: Cost, events: list[Event]
) -> tuple[Generation, Response]:
    """Concurrency cap, reservation, dispatch and commit, atomically."""
    account, media = caller.account, given.model.media_type
    with region.store.lock:
        cap = region.concurrency_cap(account, media)
        in_flight = region.store.in_flight(account, media)
        if in_flight >= cap:
            raise ApiError(
                "BSE1009",
                f"The plan's limit of in-flight {media} generations has been reached.",
                details={"limit": cap, "in_flight": in_flight, "media_type": media},
                headers={"Retry-After": "5"},
            )
        now = region.clock.now()
        reserved = cost.per_generation * given.output_number
        events += _low_balance(caller, ledger.reserve(account, reserved, now))
        generation = _new_generation(region, caller, given, cost, reserved, now)
        provider_errors = region.lifecycle.submit(generation)
        if generation.current_provider is None:
            ledger.refund(generation, now)
            raise ApiError("BSE4003", provider_errors=provider_errors)
        region.store.add(generation)
        region.lifecycle.schedule_start(generation)
        huge = None
        if media == "video":  # outputs are padded with an MP4 ``free`` box
            huge = region.faults.take(
                "huge_output", subject=generation.generation_id, model=given.model.identifier
            )
        generation.huge_size = huge.size if huge is not None else None
        data = {
            "model_identifier": given.model.identifier,
            "generation_provider_order": list(generation.provider_order),
            "generation_prediction_id": generation.prediction_id,
            "generation_id": generation.generation_id,
            "generation_initialized": True,
        }
        return generation, success(region.ids, region.clock, CREATED, data)


def _new_generation(
    region: Region, caller: Caller, given: GenerationInput, cost: Cost, reserved: Any, now: float
) -> Generation:
    seed = given.extras.get("generation_seed")
    return Generation(
        generation_id=region.ids.uuid(),
        account=caller.account,
        model=given.model,
        prompt=given.prompt,
        ratio=given.ratio,
        output_format=given.output_format,
        output_number=given.output_number,
        input_file=given.input_file,
        provider_order=given.provider_order,
        created_at=now,
        cost=cost.per_generation,
        reserved=reserved,
        media_seed=seed if isinstance(seed, int) else region.ids.seed32(),
        duration=given.duration,
        resolution=given.resolution,
        generate_audio=given.generate_audio,
        extras=dict(given.extras),
    )


def _webhooks_first(region: Region, request: Request, generation: Generation) -> None:
    """The ``webhooks_before_response`` fault: finish and deliver before answering the create."""
    fault = region.faults.take(
        "webhooks_before_response", model=generation.model.identifier, path=request.path
    )
    if fault is None:
        return
    with region.store.lock:
        events = [] if generation.terminal else region.lifecycle.succeed(generation)
    region.publish(events)
    region.dispatcher.wait_idle(fault.seconds or 30.0, generation.generation_id)


def _generation(region: Region, caller: Caller, generation_id: str) -> Generation:
    generation = region.store.get(caller.account, generation_id)
    if generation is None:
        raise ApiError(
            "BSE2011",
            f"Generation {generation_id} does not exist for this account.",
            details={"generation_id": generation_id},
        )
    return generation


def get(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    with region.store.lock:
        record = _generation(region, caller, params["id"]).record(region.base_url)
    return success(region.ids, region.clock, "Generation info retrieved successfully", record)


def list_generations(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    limit = query_int(request.query, "limit", 50)
    offset = query_int(request.query, "offset", 0)
    if limit < 1:
        raise invalid("limit", "limit must be a positive integer (at most 100).")
    if offset < 0:
        raise invalid("offset", "offset must be zero or a positive integer.")
    limit = min(limit, 100)
    with region.store.lock:
        own = region.store.timeline(caller.account)
        page = [g.record(region.base_url) for g in own.newest_first(offset, limit)]
        total = len(own)
    return success(
        region.ids,
        region.clock,
        "Generations retrieved successfully",
        {"generations": page},
        page={"total": total, "limit": limit, "offset": offset},
    )


def delete(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    with region.store.lock:
        generation = _generation(region, caller, params["id"])
        if not generation.terminal:
            raise invalid(
                "generation_id",
                "Only generations that succeeded, failed or were canceled can be deleted.",
                generation_status=generation.status,
            )
        deleted = generation.output_number if generation.files_present else 0
        generation.files_present = False
        if generation.status == "succeeded":
            generation.removed = True
    data = {"generation_id": generation.generation_id, "files_deleted": deleted}
    return success(region.ids, region.clock, "Generation deleted successfully", data)


def cancel(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    with region.store.lock:
        generation = _generation(region, caller, params["id"])
        if generation.terminal:
            raise ApiError(
                "BSE2012",
                f"The generation already {_past(generation.status)}.",
                details={"generation_status": generation.status},
            )
        age = region.clock.now() - generation.created_at
        if age > region.config.cancel_window:
            raise ApiError(
                "BSE2013",
                details={"cancel_window_seconds": int(region.config.cancel_window)},
            )
        sent, refunded, events = region.lifecycle.cancel(generation)
    region.publish(events)
    data = {
        "generation_id": generation.generation_id,
        "generation_status": "canceled",
        "provider_cancel_sent": sent,
        "credits_refunded": refunded,
    }
    return success(region.ids, region.clock, "Generation canceled successfully", data)


def _past(status: str) -> str:
    return {"succeeded": "completed", "failed": "failed", "canceled": "was canceled"}[status]
