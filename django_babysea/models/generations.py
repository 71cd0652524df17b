"""Generations and their output files."""

from __future__ import annotations

import uuid
from typing import Any, Final

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Generation", "GenerationKind", "GenerationOutput", "GenerationStatus", "OutputState"]


class GenerationKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")


class GenerationStatus(models.TextChoices):
    """Statuses in lifecycle order; ``created`` is local only (not yet accepted by BabySea)."""

    CREATED = "created", _("Created")
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")

    @property
    def rank(self) -> int:
        """Position in the lifecycle; the three terminal statuses share the highest rank."""
        return _STATUS_RANK[self.value]

    @property
    def is_terminal(self) -> bool:
        return self.rank == _TERMINAL_RANK

    def advance(self, reported: GenerationStatus | None) -> GenerationStatus:
        """The status after BabySea reports ``reported``: only forwards, terminal is final.

        This is the one place the lifecycle order is decided; every source of remote state
        (create response, poll, webhook, list sync) goes through it.
        """
        if reported is None or self.is_terminal or reported.rank <= self.rank:
            return self
        return reported


_TERMINAL_RANK: Final = 3
_STATUS_RANK: Final = {
    "created": 0,
    "pending": 1,
    "processing": 2,
    "succeeded": _TERMINAL_RANK,
    "failed": _TERMINAL_RANK,
    "canceled": _TERMINAL_RANK,
}


class Generation(models.Model):
    """One generation. The local row exists before BabySea is called, so that its idempotency
    key is stored first and a retried submit can never reserve credits twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    generation_id = models.UUIDField(
        _("BabySea generation id"), unique=True, null=True, blank=True, editable=False
    )
    kind = models.CharField(_("kind"), max_length=10, choices=GenerationKind.choices)
    model_identifier = models.CharField(_("model"), max_length=200)
    prompt = models.TextField(_("prompt"), blank=True)
    request = models.JSONField(
        _("request"), default=dict, blank=True, help_text=_("Every generation_* field sent.")
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=GenerationStatus.choices,
        default=GenerationStatus.CREATED,
    )
    provider_order = models.JSONField(_("provider order"), default=list, blank=True)
    provider_used = models.CharField(_("provider used"), max_length=100, blank=True)
    prediction_id = models.CharField(_("provider prediction id"), max_length=255, blank=True)
    output_urls = models.JSONField(
        _("output URLs"),
        default=list,
        blank=True,
        help_text=_("BabySea's URLs; they expire with the plan's retention window."),
    )
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    cost_reserved = models.DecimalField(
        _("credits reserved"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Estimated cost."),
    )
    cost_charged = models.DecimalField(
        _("credits charged"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=255,
        unique=True,
        editable=False,
        help_text=_("Sent as Idempotency-Key; defaults to django-babysea:<local id>."),
    )
    # No separate index: the (owner, -created_at) index below serves lookups by owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="babysea_generations",
        db_index=False,
    )
    # The send claim: a worker takes the row by bumping send_attempts (its token) and stamping
    # send_claimed_at in a committed UPDATE, then calls BabySea with no lock held.
    send_attempts = models.PositiveIntegerField(
        _("send attempts"), default=0, editable=False, help_text=_("Calls to create it at BabySea.")
    )
    send_claimed_at = models.DateTimeField(_("send claimed"), null=True, blank=True, editable=False)
    remote_created_at = models.DateTimeField(_("created at BabySea"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    removed = models.BooleanField(
        _("removed at BabySea"),
        default=False,
        help_text=_("BabySea deleted the output files (by request or retention)."),
    )
    remote = models.JSONField(
        _("remote record"), default=dict, blank=True, help_text=_("Last record BabySea sent.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("generation")
        verbose_name_plural = _("generations")
        ordering = ("-created_at",)
        # What an editor may ask BabySea to do, granted apart from the row permissions.
        permissions = (
            ("submit_generation", _("Can submit generations to BabySea (spends credits)")),
            ("cancel_generation", _("Can cancel generations at BabySea")),
            ("delete_remote_generation", _("Can delete generations' files at BabySea")),
            ("refresh_generation", _("Can refresh generations from BabySea")),
            ("copy_generation_outputs", _("Can copy generations' outputs again")),
            ("sync_generations", _("Can sync generations and the catalog from BabySea")),
        )
        indexes = (
            models.Index(fields=["-created_at"], name="babysea_gen_created_idx"),
            models.Index(fields=["status", "-created_at"], name="babysea_gen_status_idx"),
            models.Index(fields=["owner", "-created_at"], name="babysea_gen_owner_idx"),
            models.Index(fields=["model_identifier", "-created_at"], name="babysea_gen_model_idx"),
        )

    def __str__(self) -> str:
        return f"{self.model_identifier} ({self.status}) {str(self.generation_id or self.id)[:8]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.idempotency_key:
            self.idempotency_key = f"django-babysea:{self.id}"
        super().save(*args, **kwargs)

    @property
    def is_terminal(self) -> bool:
        return GenerationStatus(self.status).is_terminal


class OutputState(models.TextChoices):
    PENDING = "pending", _("Pending")
    COPYING = "copying", _("Copying")
    STORED = "stored", _("Stored")
    FAILED = "failed", _("Failed (will be retried)")
    EXPIRED = "expired", _("Expired before it was copied")
    DELETED = "deleted", _("Deleted")


class GenerationOutput(models.Model):
    """One output file of a succeeded generation and its copy in the site's storage.

    Only the storage alias and the file name are stored: URLs are built when they are needed
    (:attr:`url`), so a signed S3 URL is never kept until it goes stale.
    """

    generation = models.ForeignKey(
        Generation,
        verbose_name=_("generation"),
        on_delete=models.CASCADE,
        related_name="outputs",
    )
    index = models.PositiveSmallIntegerField(_("index"))
    source_url = models.URLField(
        _("BabySea URL"), max_length=2048, help_text=_("Expires with the retention window.")
    )
    state = models.CharField(
        _("copy state"), max_length=20, choices=OutputState.choices, default=OutputState.PENDING
    )
    storage = models.CharField(
        _("storage"), max_length=100, help_text=_("Alias in STORAGES that holds the copy.")
    )
    name = models.CharField(_("file name"), max_length=1024, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # Read from the file's header when it is copied, so pages can lay out previews (width and
    # height attributes) without opening the storage; null when the format does not say.
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    duration = models.FloatField(
        _("duration in seconds"), null=True, blank=True, help_text=_("Videos, from the header.")
    )
    # Renditions live on the row itself (not in a table of their own) so that a page renders
    # them with the query that loads the outputs: no prefetch, no extra query. Each item is
    # {"role": "image"|"poster", "format", "width", "height", "name", "size"}.
    renditions = models.JSONField(
        _("renditions"),
        default=list,
        blank=True,
        help_text=_("Resized copies and the poster frame, made when the file was stored."),
    )
    renditions_key = models.CharField(
        _("renditions made for"),
        max_length=200,
        blank=True,
        help_text=_("The rendition settings the renditions were made with."),
    )
    rendition_error = models.TextField(_("last rendition error"), blank=True)
    remote_expires_at = models.DateTimeField(
        _("expires at BabySea"),
        null=True,
        blank=True,
        help_text=_("When BabySea's retention window is expected to delete the file."),
    )
    attempts = models.PositiveIntegerField(_("copy attempts"), default=0)
    error_reason = models.CharField(
        _("error reason"), max_length=40, blank=True, help_text=_("Machine-readable reason.")
    )
    error = models.TextField(_("last error"), blank=True)
    copy_started_at = models.DateTimeField(_("copy started"), null=True, blank=True)
    stored_at = models.DateTimeField(_("stored"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("generation output")
        verbose_name_plural = _("generation outputs")
        ordering = ("generation", "index")
        constraints = (
            models.UniqueConstraint(
                fields=["generation", "index"], name="babysea_output_once_per_index"
            ),
        )
        indexes = (
            models.Index(fields=["state", "remote_expires_at"], name="babysea_output_state_idx"),
        )

    def __str__(self) -> str:
        return f"{self.generation_id} #{self.index} ({self.state})"

    @property
    def is_stored(self) -> bool:
        return self.state == OutputState.STORED and bool(self.name)

    @property
    def url(self) -> str | None:
        """The URL of the local copy, built now by its storage; None until it is stored."""
        if not self.is_stored:
            return None
        return storages[self.storage].url(self.name)
