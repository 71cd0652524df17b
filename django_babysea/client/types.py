"""Typed results of the 17 BabySea operations (contract section 2).

Each class names every documented field of its ``data`` object with the JSON's own snake_case name.
Timestamps are parsed into timezone-aware :class:`~datetime.datetime` objects; JSON arrays become
tuples. ``raw`` keeps the object exactly as received (model-specific ``generation_*`` fields
included) and ``request_id`` the envelope's correlation id. Build one from a decoded ``data`` object
with ``Class.from_data(data)``; a missing or mistyped field raises
:class:`~django_babysea.client.errors.ResponseValidationError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Final

from ._decode import CLIENT_SIDE, Record, Result
from .errors import ResponseValidationError

__all__ = [
    "TERMINAL_STATUSES",
    "Account",
    "Billing",
    "CacheHealth",
    "CancelResult",
    "DeleteResult",
    "Estimate",
    "Generation",
    "GenerationCreated",
    "GenerationPage",
    "HealthWindow",
    "KeyStatus",
    "ModelAvailability",
    "ModelHealth",
    "ModelInfo",
    "ModelSchema",
    "ModelsHealth",
    "ProviderHealth",
    "ProviderImplementation",
    "ProviderInfo",
    "ProvidersHealth",
    "Record",
    "Result",
    "StorageHealth",
    "Usage",
    "UsageEndpoint",
    "UsageProvider",
]

TERMINAL_STATUSES: Final = frozenset({"succeeded", "failed", "canceled"})

# -- account ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyStatus(Result):
    """``GET /v1/status``: the key that authenticated the request."""

    account_id: str
    apikey_id: str
    apikey_name: str | None = None
    apikey_prefix: str | None = None
    apikey_created_at: datetime | None = None
    apikey_last_used_at: datetime | None = None
    apikey_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageEndpoint(Record):
    endpoint: str
    total_requests: int
    success_count: int
    client_error_count: int
    server_error_count: int
    error_codes: dict[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageProvider(Record):
    provider: str
    total_submissions: int
    used_count: int
    cancelled_count: int
    discarded_count: int
    failed_count: int
    total_estimated_cost: float
    wasted_estimated_cost: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage(Result):
    """``GET /v1/usage``."""

    account_id: str
    usage_period_days: int
    usage_credit_balance: float
    usage_total_requests: int
    usage_total_success: int
    usage_total_client_errors: int
    usage_total_server_errors: int
    usage_total_generations: int
    usage_total_provider_submissions: int
    usage_total_estimated_cost: float
    usage_endpoints: tuple[UsageEndpoint, ...]
    usage_providers: tuple[UsageProvider, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Account(Result):
    """``GET /v1/user/account``."""

    account_id: str
    account_name: str
    account_is_personal: bool
    account_created_at: datetime
    account_email: str | None = None
    account_picture_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Billing(Result):
    """``GET /v1/user/billing``. Credits are USD with 3 decimals."""

    account_id: str
    billing_credit_balance: float
    billing_plan: str | None = None
    billing_subscription_status: str | None = None
    billing_cancel_at_period_end: bool | None = None
    billing_currency: str | None = None
    billing_period_starts_at: datetime | None = None
    billing_period_ends_at: datetime | None = None
    billing_created_at: datetime | None = None
    billing_updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate(Result):
    """``GET /v1/estimate/{model}``. The ``cost_per_second``/``duration_seconds``/``resolution``
    fields are set for video models only."""

    model_identifier: str
    model_type: str
    assets_count: int
    cost_per_generation: float
    cost_total_consumed: float
    cost_per_second: float | None = None
    duration_seconds: int | None = None
    resolution: str | None = None
    credit_balance: float | None = None
    credit_balance_can_afford: bool | None = None
    credit_balance_max_affordable: int | None = None


# -- generations ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationCreated(Result):
    """``POST /v1/generate/{image|video}/{model}``.

    On an idempotent replay of a generation canceled meanwhile, BabySea answers only
    ``{generation_id, generation_status: "canceled"}``: then every other field is ``None`` and
    :attr:`canceled` is true.
    """

    generation_id: str
    model_identifier: str | None = None
    generation_provider_order: tuple[str, ...] | None = None
    generation_prediction_id: str | None = None
    generation_initialized: bool | None = None
    generation_status: str | None = None
    #: The response carried ``Idempotency-Replayed: true`` (not a JSON field).
    idempotency_replayed: bool = field(default=False, metadata=CLIENT_SIDE)

    @property
    def canceled(self) -> bool:
        return self.generation_status == "canceled"

    def _validate(self) -> None:
        if self.generation_status is not None:
            return
        for name in ("model_identifier", "generation_provider_order", "generation_initialized"):
            if getattr(self, name) is None:
                raise ResponseValidationError("required field is missing", where=f"data.{name}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Generation(Result):
    """``GET /v1/content/{id}``: the full record of one generation.

    Fields that only apply to some models or states (video, audio, failure, removal) are ``None``
    when absent. Other model-specific ``generation_*`` inputs echoed back are in :attr:`extra`.
    """

    account_id: str
    generation_id: str
    model_identifier: str
    generation_status: str
    generation_provider_order: tuple[str, ...]
    generation_created_at: datetime
    generation_provider_used: str | None = None
    generation_prediction_id: str | None = None
    generation_prompt: str | None = None
    generation_ratio: str | None = None
    generation_output_format: str | None = None
    generation_output_number: int | None = None
    generation_input_file: tuple[str, ...] | None = None
    generation_output_file: tuple[str, ...] | None = None
    generation_started_at: datetime | None = None
    generation_completed_at: datetime | None = None
    generation_metrics_total_time: float | None = None
    generation_metrics_predict_time: float | None = None
    generation_duration: int | None = None
    generation_resolution: str | None = None
    generation_generate_audio: bool | None = None
    generation_audio_mode: str | None = None
    generation_error: str | None = None
    generation_error_code: str | None = None
    generation_removed: bool | None = None

    @property
    def is_terminal(self) -> bool:
        """``succeeded``, ``failed`` or ``canceled``: the status will not change again."""
        return self.generation_status in TERMINAL_STATUSES

    @property
    def extra(self) -> dict[str, Any]:
        """Fields of :attr:`raw` this class does not name (model-specific inputs)."""
        known = {f.name for f in fields(self)}
        return {k: v for k, v in self.raw.items() if k not in known}


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerationPage(Result):
    """``GET /v1/content/list``: one page, newest first. ``total`` counts every page."""

    generations: tuple[Generation, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelResult(Result):
    """``POST /v1/content/generation/cancel/{id}``."""

    generation_id: str
    generation_status: str
    provider_cancel_sent: bool
    credits_refunded: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteResult(Result):
    """``DELETE /v1/content/{id}``: output files removed; the record is kept."""

    generation_id: str
    files_deleted: int


# -- library ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSchema(Record):
    """What a model accepts; ``generation_duration``/``_resolution``/``_generate_audio`` are set
    only for models that take them."""

    generation_prompt: bool
    generation_ratio: tuple[str, ...] = ()
    generation_output_format: tuple[str, ...] = ()
    generation_output_number: int = 1
    generation_input_file: bool = False
    generation_duration: tuple[int, ...] | None = None
    generation_resolution: tuple[str, ...] | None = None
    generation_generate_audio: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo(Result):
    """One entry of ``GET /v1/library/models``. ``model_pricing`` is a number (per output, or
    per second for video), a map of per-second prices keyed by resolution/audio, or ``None``."""

    model_type: str
    model_identifier: str
    model_supported_provider: tuple[str, ...]
    schema: ModelSchema
    model_pricing: float | dict[str, float] | None = None
    specific_schema: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderImplementation(Record):
    delivery_method: str
    cancel_method: str | None
    webhook_verification: str | None
    error_mapping: str
    cost_tracking: str
    schema_conversion: str
    failover_strategy: str
    health_monitoring: str
    supported_media_types: tuple[str, ...]
    supported_models_total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderInfo(Result):
    """One entry of ``GET /v1/library/providers``."""

    provider_id: str
    provider_name: str
    provider_status: str
    babysea_implementation: ProviderImplementation
    provider_description: str | None = None
    provider_website: str | None = None
    provider_docs: str | None = None


# -- health -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthWindow(Record):
    total_attempts: int
    failures: int
    successes: int
    duration_seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderHealth(Record):
    provider: str
    status: str
    failure_rate: float
    window: HealthWindow


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvidersHealth(Result):
    """``GET /v1/health/inference/providers``: circuit breakers over the last 5 minutes."""

    service: str
    healthy: bool
    providers: tuple[ProviderHealth, ...]
    providers_total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelAvailability(Record):
    available: bool
    raw_model_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelHealth(Record):
    model_identifier: str
    model_type: str
    providers: dict[str, ModelAvailability]
    model_pricing: float | dict[str, float] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelsHealth(Result):
    """``GET /v1/health/inference/models``."""

    service: str
    healthy: bool
    models: tuple[ModelHealth, ...]
    models_total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageHealth(Result):
    """``GET /v1/health/storage``."""

    service: str
    healthy: bool
    latency_ms: float
    bucket: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheHealth(Result):
    """``GET /v1/health/cache``."""

    service: str
    healthy: bool
    latency_ms: float
    error: str | None = None
