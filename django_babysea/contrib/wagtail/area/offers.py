"""Which actions the area offers on a generation, to whom: what the buttons show.

The views of the actions ask the same questions again when they run (a button is a hint, the
POST is the decision), through :func:`~.access.may` and the library's permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from django_babysea.contrib.wagtail import permissions
from django_babysea.models import Generation, GenerationStatus

from . import refining
from .access import may, may_see

__all__ = ["Offer", "Offers", "problem"]


@dataclass(frozen=True)
class Offer:
    name: str
    label: str
    icon: str
    url: str


#: (name, label, icon); cancel and delete are the project's actions of the same names.
_ACTIONS = (
    ("import", _("Import into the library"), "upload"),
    ("regenerate", _("Regenerate"), "rotate"),
    ("refine", _("Refine"), "edit"),
    ("cancel", _("Cancel"), "cross"),
    ("delete", _("Delete files"), "bin"),
)


def problem(name: str, generation: Generation) -> str:
    """Why action ``name`` cannot apply to ``generation`` now ("" when it can)."""
    if name == "cancel" and generation.is_terminal:
        return str(_("It has already finished: there is nothing to cancel."))
    if name == "delete":
        if generation.generation_id is None:
            return str(_("BabySea never accepted it: there are no files there to delete."))
        if not generation.is_terminal:
            return str(_("It is still running: cancel it first, or wait until it finishes."))
        if generation.removed:
            return str(_("Its files were already deleted at BabySea."))
    if name == "import":
        if generation.status != GenerationStatus.SUCCEEDED:
            return str(_("Only a succeeded generation has outputs to import."))
        stored = {output.pk for output in generation.outputs.all() if output.is_stored}
        if not stored:
            return str(_("None of its outputs is stored in this site yet."))
        if stored <= {item.output_id for item in generation.library_items.all()}:
            return str(_("Its outputs are already in the library."))
    if name == "refine" and not refining.stored_images(generation):
        return str(_("Refining needs a stored image output to start from."))
    return ""


class Offers:
    """The actions one user is offered, generation by generation. What depends on the user
    alone (may they generate, import into some collection) is asked once, so a page of rows
    costs no query per row."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def may_generate(self) -> bool:
        return permissions.can_generate(self.user)

    @cached_property
    def may_import(self) -> bool:
        return permissions.collections_for(self.user).exists()

    def _allowed(self, name: str, generation: Generation) -> bool:
        if name in ("regenerate", "refine"):
            return self.may_generate and may_see(self.user, generation)
        if name == "import":
            return self.may_import and may_see(self.user, generation)
        return may(self.user, name, generation)

    def for_generation(self, generation: Generation) -> list[Offer]:
        """The actions the user may take on ``generation`` now, in the order they are shown."""
        offered = []
        for name, label, icon in _ACTIONS:
            if not self._allowed(name, generation) or problem(name, generation):
                continue
            url = reverse(f"babysea_generations:{name}", args=[generation.pk])
            offered.append(Offer(name, str(label), icon, url))
        return offered
