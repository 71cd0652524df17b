"""The area's actions on one generation: cancel, delete files, regenerate, refine, import.

Each is a confirmation page (GET) and the action (POST). Each asks, when it runs, the same
questions as the button that led to it: the project's rule for cancel and delete
(:func:`~.access.may`, as the Django admin), the library's for anything that generates or adds
images (:func:`..permissions.can_generate`, the collections a user may add images to). A
refusal is a message on the generation's page, never an error page. Each calls one service
with no transaction open and no lock held while BabySea answers.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.log_actions import log

from django_babysea import services
from django_babysea.contrib.wagtail import permissions
from django_babysea.contrib.wagtail.library import import_generation, submit_to_library
from django_babysea.models import Generation

from . import audit
from .access import may, may_open_area, may_see
from .display import credits, thumbnail
from .forms import ConfirmForm, ImportForm, RefineForm, RegenerateForm
from .offers import problem
from .outcomes import ACTION_ERRORS, describe_error
from .refining import public_url, stored_images
from .views import area_queryset

__all__ = ["CancelView", "DeleteView", "ImportView", "RefineView", "RegenerateView"]


def inspect_url(generation: Generation) -> str:
    return reverse("babysea_generations:inspect", args=[generation.pk])


class GenerationActionView(WagtailAdminTemplateMixin, FormView):  # type: ignore[misc,type-arg]
    #: The offer's name (see :mod:`.offers`), also the URL name.
    action: ClassVar[str]
    template_name = "babysea_wagtail/area/action.html"
    form_class: Any = ConfirmForm
    header_icon = "image"
    question: Any = ""
    button_label: Any = ""
    #: The message when the user may not do it.
    refused: Any = ""
    #: A button that spends or deletes is drawn as a serious one.
    serious = False

    generation: Generation

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_open_area(request.user):
            raise Http404
        found = area_queryset(request.user).filter(pk=kwargs["pk"]).first()
        if found is None:
            raise Http404
        self.generation = found
        refusal = self.refusal()
        if refusal:
            messages.error(request, refusal)
            return redirect(inspect_url(found))
        return cast(HttpResponse, super().dispatch(request, *args, **kwargs))

    def allowed(self) -> bool:
        raise NotImplementedError

    def refusal(self) -> str:
        if not self.allowed():
            return str(self.refused)
        return problem(self.action, self.generation)

    def get_page_subtitle(self) -> str:
        return self.generation.model_identifier

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse("babysea_generations:index"), "label": _("Generations")},
            {"url": inspect_url(self.generation), "label": self.generation.model_identifier},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()
        if issubclass(self.get_form_class(), ConfirmForm):
            return kwargs
        return {**kwargs, "user": self.request.user}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        generation = self.generation
        context.update(
            generation=generation,
            thumb=thumbnail(generation),
            credits_reserved=credits(generation.cost_reserved),
            credits_charged=credits(generation.cost_charged),
            question=self.question,
            button_label=self.button_label,
            serious=self.serious,
            back_url=inspect_url(generation),
        )
        return context

    def perform(self, form: forms.Form) -> tuple[str, str]:
        """Do it; return the message and the page to go to."""
        raise NotImplementedError

    def form_valid(self, form: forms.Form) -> HttpResponse:
        try:
            text, url = self.perform(form)
        except ACTION_ERRORS as exc:
            return self.failed(form, describe_error(exc))
        messages.success(self.request, text)
        return redirect(url)

    def failed(self, form: forms.Form, error: str) -> HttpResponse:
        """A refusal the editor can act on: the form again, with the reason."""
        form.add_error(None, error)
        return self.form_invalid(form)


class CancelView(GenerationActionView):
    action = "cancel"
    refused = gettext_lazy("You may not cancel this generation.")
    page_title = gettext_lazy("Cancel")
    question = gettext_lazy("Cancel this generation? BabySea refunds the credits it reserved.")
    button_label = gettext_lazy("Yes, cancel it")
    serious = True

    def allowed(self) -> bool:
        return may(self.request.user, "cancel", self.generation)

    def perform(self, form: forms.Form) -> tuple[str, str]:
        canceled = services.cancel_generation(self.generation)
        log(
            canceled,
            audit.CANCEL,
            user=self.request.user,
            data={"status": canceled.status, "cost_reserved": _text(canceled.cost_reserved)},
        )
        return (
            _("Canceled (status: %(status)s).") % {"status": canceled.get_status_display()},
            inspect_url(canceled),
        )


class DeleteView(GenerationActionView):
    action = "delete"
    refused = gettext_lazy("You may not delete this generation's files at BabySea.")
    page_title = gettext_lazy("Delete files")
    question = gettext_lazy(
        "Delete the output files of this generation at BabySea? Credits already charged are "
        "not refunded. Images already in the library stay there."
    )
    button_label = gettext_lazy("Yes, delete the files")
    serious = True

    def allowed(self) -> bool:
        return may(self.request.user, "delete", self.generation)

    def perform(self, form: forms.Form) -> tuple[str, str]:
        deleted = services.delete_generation(self.generation)
        log(deleted, audit.DELETE, user=self.request.user, data={"removed": deleted.removed})
        return _("Its files were deleted at BabySea."), inspect_url(deleted)


class _GenerateView(GenerationActionView):
    """Regenerate and refine: a new generation into the library, at the user's expense."""

    def allowed(self) -> bool:
        user = self.request.user
        return may_see(user, self.generation) and permissions.can_generate(user)

    def submitted(self, submission: Any) -> tuple[str, str]:
        new = submission.generation
        if not submission.created:
            return _("This was already submitted: here it is."), inspect_url(new)
        text = _("Submitted: %(model)s, %(status)s. Its outputs go into the library.") % {
            "model": new.model_identifier,
            "status": new.get_status_display(),
        }
        return text, inspect_url(new)


class RegenerateView(_GenerateView):
    action = "regenerate"
    refused = gettext_lazy("You may not generate images into the library.")
    page_title = gettext_lazy("Regenerate")
    form_class = RegenerateForm
    question = gettext_lazy(
        "Submit the same request again, as a new generation whose outputs go into the image "
        "library? It is charged again."
    )
    button_label = gettext_lazy("Regenerate")

    def perform(self, form: forms.Form) -> tuple[str, str]:
        assert isinstance(form, RegenerateForm)
        source = self.generation
        target = getattr(source, "library_target", None)
        submission = submit_to_library(
            self.request.user,
            source.model_identifier,
            dict(source.request),
            collection=form.cleaned_data["collection"],
            title=target.title if target is not None else "",
            description=target.description if target is not None else "",
            tags=target.tags if target is not None else (),
            idempotency_key=form.idempotency_key("regenerate"),
        )
        return self.submitted(submission)


class RefineView(_GenerateView):
    action = "refine"
    refused = gettext_lazy("You may not generate images into the library.")
    page_title = gettext_lazy("Refine")
    form_class = RefineForm
    question = gettext_lazy(
        "Start a new generation from one of these outputs: BabySea receives the image as the "
        "input file, with your prompt. The result goes into the image library."
    )
    button_label = gettext_lazy("Refine")

    def get_initial(self) -> dict[str, Any]:
        return {"prompt": self.generation.prompt, "model": self.generation.model_identifier}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "outputs": stored_images(self.generation)}

    def perform(self, form: forms.Form) -> tuple[str, str]:
        assert isinstance(form, RefineForm)
        output = form.cleaned_data["output"]
        fields = {
            "generation_prompt": form.cleaned_data["prompt"],
            "generation_input_file": [public_url(self.request, str(output.url))],
        }
        submission = submit_to_library(
            self.request.user,
            form.cleaned_data["model"],
            fields,
            collection=form.cleaned_data["collection"],
            idempotency_key=form.idempotency_key("refine"),
        )
        return self.submitted(submission)


class ImportView(GenerationActionView):
    action = "import"
    refused = gettext_lazy("You may not add images to the library.")
    page_title = gettext_lazy("Import into the library")
    form_class = ImportForm
    question = gettext_lazy(
        "Add the stored outputs of this generation to the image library (videos to the media "
        "library). An output already there is not added twice."
    )
    button_label = gettext_lazy("Import")

    def allowed(self) -> bool:
        user = self.request.user
        return may_see(user, self.generation) and permissions.collections_for(user).exists()

    def perform(self, form: forms.Form) -> tuple[str, str]:
        collection = form.cleaned_data["collection"]
        items = import_generation(self.generation, user=self.request.user, collection=collection)
        if not items:
            raise ValueError(_("No output could be imported (see the site's log for why)."))
        text = ngettext(
            "%(count)d output is in the library.",
            "%(count)d outputs are in the library.",
            len(items),
        ) % {"count": len(items)}
        return text, inspect_url(self.generation)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
