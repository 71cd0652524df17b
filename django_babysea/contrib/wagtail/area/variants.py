"""The "Create variants" bulk action of the image library: one generation per selected image,
with the image as the input file, whose outputs go back into the library.

The submissions happen outside the transaction Wagtail opens around a bulk action's
``execute_action``: each may ask BabySea for the catalog or an estimate, and none may wait on
BabySea with the database locked. Each image is submitted on its own; one refusal (a
collection, the budget) does not stop the others, and each is reported.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from wagtail.admin import messages
from wagtail.images.views.bulk_actions.image_bulk_action import ImageBulkAction

from django_babysea.contrib.wagtail import permissions
from django_babysea.contrib.wagtail.library import submit_to_library

from .forms import VariantsForm
from .outcomes import ACTION_ERRORS, describe_error
from .refining import image_input_url

__all__ = ["CreateVariantsBulkAction"]

#: Image titles are at most 255 characters (Wagtail's column).
MAX_TITLE = 255


class CreateVariantsBulkAction(ImageBulkAction):  # type: ignore[misc]
    display_name = gettext_lazy("Create variants")
    action_type = "babysea_create_variants"
    aria_label = gettext_lazy("Create variants of the selected images with BabySea")
    template_name = "babysea_wagtail/area/variants.html"
    action_priority = 60
    form_class = VariantsForm

    def check_perm(self, image: Any) -> bool:
        # Using an image as an input file needs no more than choosing it for a page.
        return bool(
            self.permission_policy.user_has_permission_for_instance(
                self.request.user, "choose", image
            )
        )

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()
        return {**kwargs, "user": self.request.user}

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        if not permissions.can_generate(request.user):
            messages.error(request, _("You may not generate images."))
            return redirect(self.next_url)
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        return response

    def form_valid(self, form: VariantsForm) -> HttpResponse:
        images, _refused = self.get_actionable_objects()
        submitted, failed = 0, []
        for image in images:
            try:
                self._submit(form, image)
            except ACTION_ERRORS as exc:
                failed.append(f"{image.title}: {describe_error(exc)}")
            else:
                submitted += 1
        if submitted:
            messages.success(
                self.request,
                ngettext(
                    "%(count)d variant is being generated; it goes into the library when done.",
                    "%(count)d variants are being generated; they go into the library when done.",
                    submitted,
                )
                % {"count": submitted},
            )
        for line in failed:
            messages.error(self.request, line)
        return redirect(self.next_url)

    def _submit(self, form: VariantsForm, image: Any) -> None:
        data = form.cleaned_data
        suffix = " " + _("(variant)")
        submit_to_library(
            self.request.user,
            data["model"],
            {
                "generation_prompt": data["prompt"],
                "generation_input_file": [image_input_url(self.request, image)],
            },
            collection=data["collection"] or image.collection,
            title=str(image.title)[: MAX_TITLE - len(suffix)] + suffix,
            idempotency_key=f"{form.idempotency_key('variants')}:{image.pk}",
        )

    @classmethod
    def execute_action(cls, objects: Any, **kwargs: Any) -> tuple[int, int]:
        # Never reached: form_valid submits outside Wagtail's transaction.
        raise NotImplementedError
