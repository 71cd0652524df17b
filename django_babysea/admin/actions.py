"""Admin actions on generations: thin wrappers around the service layer.

Each action needs its own permission (the custom permissions on ``Generation``) and the
permission policy's yes, model-wide to be offered and for each row to act on it; it calls one
service per row with no transaction open (the admin's changelist opens none), reports every
row's outcome as an admin message and writes a ``LogEntry``. The actions that spend credits or
delete (cancel, delete at BabySea, resend) first show a confirmation page with, per row,
whether it can be acted on and the credits involved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from django_babysea import services
from django_babysea.conf import babysea_settings
from django_babysea.models import Generation, GenerationStatus, OutputState
from django_babysea.policy import has_staff_permission
from django_babysea.services.renditions import make_renditions

from .outcomes import ACTION_ERRORS, Report, describe_error, refuse_unoffered_action

if TYPE_CHECKING:
    GenerationAdmin = admin.ModelAdmin[Generation]
else:
    GenerationAdmin = admin.ModelAdmin

__all__ = ["GenerationActionsMixin"]

#: Actions that act on the whole account, so they run with nothing selected.
ACCOUNT_ACTIONS: Final = frozenset({"sync_from_babysea"})


def _may(request: HttpRequest, action: str, obj: Generation | None = None) -> bool:
    return has_staff_permission(request.user, action, obj)


class Row:
    """One generation on a confirmation page: why the action cannot apply to it ("" when it
    can), and the credits involved."""

    def __init__(self, obj: Generation, problem: str, credits: Decimal | None) -> None:
        self.obj = obj
        self.problem = problem
        self.credits = credits


def _log(modeladmin: GenerationAdmin, request: HttpRequest, obj: Generation, text: str) -> None:
    modeladmin.log_change(request, obj, text)


def _confirmation_page(
    modeladmin: GenerationAdmin,
    request: HttpRequest,
    rows: list[Row],
    **context: Any,
) -> TemplateResponse:
    opts = modeladmin.model._meta
    eligible = [row for row in rows if not row.problem]
    known = [row.credits for row in eligible if row.credits is not None]
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(
        request,
        "admin/django_babysea/actions/confirm.html",
        {
            **modeladmin.admin_site.each_context(request),
            **context,
            "opts": opts,
            "rows": rows,
            "eligible_count": len(eligible),
            "credits_total": sum(known, Decimal(0)) if known else None,
            "credits_unknown": len(eligible) - len(known),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": modeladmin.media,
        },
    )


# -- eligibility --------------------------------------------------------------------------------


def _cancel_problem(generation: Generation) -> str:
    if generation.is_terminal:
        return _("already finished: cannot cancel")
    return ""


def _delete_problem(generation: Generation) -> str:
    if generation.generation_id is None:
        return _("never accepted by BabySea: nothing to delete there")
    if not generation.is_terminal:
        return _("not terminal: cannot delete yet")
    if generation.removed:
        return _("already removed at BabySea")
    return ""


def _resend_problem(generation: Generation) -> str:
    if generation.generation_id is not None or generation.status != GenerationStatus.CREATED:
        return _("already sent: nothing to resend")
    return ""


def _refresh_problem(generation: Generation) -> str:
    if generation.generation_id is None:
        return _("not accepted by BabySea yet: nothing to refresh")
    return ""


def _copy_problem(generation: Generation) -> str:
    if generation.status != GenerationStatus.SUCCEEDED:
        return _("not succeeded: no outputs to copy")
    return ""


def _renditions_problem(generation: Generation) -> str:
    if not babysea_settings.RENDITIONS:
        return _("renditions are off (BABYSEA['RENDITIONS'])")
    if not any(output.is_stored for output in generation.outputs.all()):
        return _("no stored output: nothing to make renditions of")
    return ""


def _rows(
    request: HttpRequest,
    action: str,
    queryset: QuerySet[Generation],
    problem: Callable[[Generation], str],
    credits: Callable[[Generation], Decimal | None],
) -> list[Row]:
    """Each selected row with why ``action`` cannot apply to it: first the policy's answer for
    this user and this row (it may refuse another's generation), then the row's state."""
    rows = []
    for obj in queryset.order_by("-created_at"):
        refused = "" if _may(request, action, obj) else _("the permission policy refuses it to you")
        rows.append(Row(obj, refused or problem(obj), credits(obj)))
    return rows


# -- one generation each ------------------------------------------------------------------------


def _cancel_one(generation: Generation) -> str:
    canceled = services.cancel_generation(generation)
    return _("canceled (status: %(status)s)") % {"status": canceled.get_status_display()}


def _delete_one(generation: Generation) -> str:
    stored = generation.outputs.filter(state=OutputState.STORED).count()
    services.delete_generation(generation)
    text = _("files deleted at BabySea")
    if stored and babysea_settings.KEEP_LOCAL_COPIES:
        text += "; " + _("%(count)d local copies kept") % {"count": stored}
    elif stored:
        text += "; " + _("%(count)d local copies deleted") % {"count": stored}
    return text


def _resend_one(generation: Generation) -> str:
    sent = services.send_generation(generation.pk)
    if sent.status == GenerationStatus.FAILED:
        raise ValueError(
            _("BabySea refused it: %(message)s (%(code)s)")
            % {"message": sent.error_message, "code": sent.error_code}
        )
    if sent.generation_id is None:
        return _("being sent by another worker: left alone")
    return _("accepted by BabySea (status: %(status)s)") % {"status": sent.get_status_display()}


def _refresh_one(generation: Generation) -> str:
    refreshed = services.refresh_generation(generation)
    return _("refreshed (status: %(status)s)") % {"status": refreshed.get_status_display()}


def _copy_one(generation: Generation) -> str:
    copied = services.copy_outputs(str(generation.pk))
    if not copied:
        return _("nothing to copy (every output is stored, expired or deleted)")
    stored = sum(1 for output in copied if output.state == OutputState.STORED)
    failed = [output for output in copied if output.state != OutputState.STORED]
    if failed:
        raise ValueError(
            _("%(stored)d of %(total)d outputs copied; #%(index)d: %(error)s")
            % {
                "stored": stored,
                "total": len(copied),
                "index": failed[0].index,
                "error": failed[0].error or failed[0].get_state_display(),
            }
        )
    return _("%(count)d outputs copied") % {"count": stored}


def _renditions_one(generation: Generation) -> str:
    outcomes: Counter[str] = Counter()
    files, errors = 0, []
    for output in generation.outputs.order_by("index"):
        if not output.is_stored:
            continue
        row, outcome = make_renditions(output.pk)
        outcomes[outcome] += 1
        if outcome == "made":
            files += len(row.renditions)
        elif outcome == "failed":
            errors.append(f"#{row.index + 1}: {row.rendition_error}")
    if errors:
        raise ValueError(
            _("%(failed)d of %(total)d outputs failed; %(errors)s")
            % {"failed": len(errors), "total": outcomes.total(), "errors": "; ".join(errors)}
        )
    text = ngettext(
        "renditions made for %(outputs)d output",
        "renditions made for %(outputs)d outputs",
        outcomes["made"],
    ) % {"outputs": outcomes["made"]}
    text += " " + ngettext("(%(files)d file)", "(%(files)d files)", files) % {"files": files}
    if outcomes["skipped"]:
        # A kind this installation cannot render (no Pillow, no ffmpeg), or deleted meanwhile.
        text += "; " + _("%(count)d skipped") % {"count": outcomes["skipped"]}
    return text


def _run(
    modeladmin: GenerationAdmin,
    request: HttpRequest,
    rows: list[Row],
    do: Callable[[Generation], str],
    verb: str,
) -> None:
    """Apply ``do`` to every eligible row, one row at a time; report and log each outcome."""
    report = Report(modeladmin, request)
    for row in rows:
        obj = row.obj
        if row.problem:
            report.skipped(obj, row.problem)
            continue
        try:
            text = do(obj)
        except ACTION_ERRORS as exc:
            error = describe_error(exc)
            report.failed(obj, error)
            _log(modeladmin, request, obj, f"{verb}: {error}")
            continue
        report.done(obj, text)
        _log(modeladmin, request, obj, f"{verb}: {text}")
    report.send()


def _confirm_or_run(
    modeladmin: GenerationAdmin,
    request: HttpRequest,
    rows: list[Row],
    *,
    action: str,
    title: str,
    question: str,
    credits_label: str,
    do: Callable[[Generation], str],
    verb: str,
) -> HttpResponse | None:
    if request.POST.get("post") != "yes":
        return _confirmation_page(
            modeladmin,
            request,
            rows,
            action=action,
            title=title,
            question=question,
            credits_label=credits_label,
        )
    _run(modeladmin, request, rows, do, verb)
    return None


# -- the actions --------------------------------------------------------------------------------


@admin.action(description=gettext_lazy("Cancel at BabySea"), permissions=["cancel"])
def cancel_at_babysea(
    modeladmin: GenerationAdmin, request: HttpRequest, queryset: QuerySet[Generation]
) -> HttpResponse | None:
    return _confirm_or_run(
        modeladmin,
        request,
        _rows(request, "cancel", queryset, _cancel_problem, lambda obj: obj.cost_reserved),
        action="cancel_at_babysea",
        title=_("Cancel generations at BabySea"),
        question=_("Cancel these generations? BabySea refunds the credits it reserved."),
        credits_label=_("Credits reserved (refunded on cancel)"),
        do=_cancel_one,
        verb="Cancel at BabySea",
    )


@admin.action(
    description=gettext_lazy("Delete files at BabySea and local copies"),
    permissions=["delete_remote"],
)
def delete_at_babysea(
    modeladmin: GenerationAdmin, request: HttpRequest, queryset: QuerySet[Generation]
) -> HttpResponse | None:
    question = _("Delete the output files of these generations at BabySea?")
    if not babysea_settings.KEEP_LOCAL_COPIES:
        question += " " + _("Their copies in this site's storage are deleted too.")
    return _confirm_or_run(
        modeladmin,
        request,
        _rows(request, "delete", queryset, _delete_problem, lambda obj: obj.cost_charged),
        action="delete_at_babysea",
        title=_("Delete generations at BabySea"),
        question=question + " " + _("Credits already charged are not refunded."),
        credits_label=_("Credits charged (not refunded)"),
        do=_delete_one,
        verb="Delete at BabySea",
    )


@admin.action(description=gettext_lazy("Send again to BabySea"), permissions=["submit"])
def resend_to_babysea(
    modeladmin: GenerationAdmin, request: HttpRequest, queryset: QuerySet[Generation]
) -> HttpResponse | None:
    return _confirm_or_run(
        modeladmin,
        request,
        _rows(request, "submit", queryset, _resend_problem, lambda obj: obj.cost_reserved),
        action="resend_to_babysea",
        title=_("Send generations again to BabySea"),
        question=_(
            "Send these generations to BabySea again? Each keeps its idempotency key, so one "
            "BabySea already accepted is not charged twice."
        ),
        credits_label=_("Estimated credits"),
        do=_resend_one,
        verb="Send again",
    )


@admin.action(description=gettext_lazy("Refresh from BabySea"), permissions=["refresh"])
def refresh_from_babysea(
    modeladmin: GenerationAdmin, request: HttpRequest, queryset: QuerySet[Generation]
) -> None:
    _run(
        modeladmin,
        request,
        _rows(request, "refresh", queryset, _refresh_problem, lambda obj: None),
        _refresh_one,
        "Refresh from BabySea",
    )


@admin.action(description=gettext_lazy("Copy outputs again"), permissions=["copy"])
def copy_outputs_again(
    modeladmin: GenerationAdmin, request: HttpRequest, queryset: QuerySet[Generation]
) -> None:
    _run(
        modeladmin,
        request,
        _rows(request, "copy", queryset, _copy_problem, lambda obj: None),
        _copy_one,
        "Copy outputs again",
    )


@admin.action(description=gettext_lazy("Make renditions again"), permissions=["copy"])
def make_renditions_again(
    modeladmin: GenerationAdmin, request: HttpRequest, queryset: QuerySet[Generation]
) -> None:
    """Make each stored output's renditions with the current settings (what
    ``babysea_renditions`` does): a copy of files already stored, hence the copy permission."""
    _run(
        modeladmin,
        request,
        _rows(request, "copy", queryset, _renditions_problem, lambda obj: None),
        _renditions_one,
        "Make renditions again",
    )


@admin.action(
    description=gettext_lazy("Sync every generation from BabySea (no selection needed)"),
    permissions=["sync"],
)
def sync_from_babysea(
    modeladmin: GenerationAdmin, request: HttpRequest, queryset: QuerySet[Generation]
) -> None:
    try:
        created, updated = services.sync_generations()
    except ACTION_ERRORS as exc:
        error = describe_error(exc)
        modeladmin.message_user(
            request, _("Sync failed: %(error)s") % {"error": error}, messages.ERROR
        )
        text = f"Sync from BabySea: {error}"
    else:
        text = _("Synced from BabySea: %(created)d new, %(updated)d changed.") % {
            "created": created,
            "updated": updated,
        }
        modeladmin.message_user(request, text, messages.SUCCESS)
    LogEntry.objects.create(
        user_id=cast(Any, request.user).pk,
        content_type=ContentType.objects.get_for_model(Generation),
        object_repr="BabySea sync",
        action_flag=CHANGE,
        change_message=text,
    )


class GenerationActionsMixin:
    """The BabySea actions of the generation change list and the permissions they need."""

    actions: Any = (
        cancel_at_babysea,
        delete_at_babysea,
        resend_to_babysea,
        refresh_from_babysea,
        copy_outputs_again,
        make_renditions_again,
        sync_from_babysea,
    )

    # Model-wide: whether the action is offered at all. Each row is asked again in _rows().

    def has_submit_permission(self, request: HttpRequest) -> bool:
        return _may(request, "submit")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return _may(request, "cancel")

    def has_delete_remote_permission(self, request: HttpRequest) -> bool:
        return _may(request, "delete")

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        return _may(request, "refresh")

    def has_copy_permission(self, request: HttpRequest) -> bool:
        return _may(request, "copy")

    def has_sync_permission(self, request: HttpRequest) -> bool:
        return _may(request, "sync")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Let the account-wide actions (sync) run with no row selected: the admin otherwise
        refuses any action without a selection."""
        refuse_unoffered_action(self, request)
        if request.method == "POST" and "index" in request.POST:
            chosen = request.POST.getlist("action")
            try:
                action = chosen[int(request.POST.get("index", 0))]
            except (IndexError, ValueError):
                action = ""
            if action in ACCOUNT_ACTIONS and not request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                data = request.POST.copy()
                data.setlist(helpers.ACTION_CHECKBOX_NAME, ["-"])
                data["select_across"] = "1"
                request.POST = data  # type: ignore[assignment]
        view = cast(GenerationAdmin, super()).changelist_view
        return view(request, extra_context)
