"""``{% babysea_image_generation image %}``: the generation an image came from, on its edit
page (prompt, model, provider, cost, a link to the generation)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("babysea_wagtail/library/image_generation.html", takes_context=True)
def babysea_image_generation(context: template.Context, image: Any) -> dict[str, Any]:
    # Imported here: Django loads every app's tag libraries at start-up, and the system check
    # that reports a missing Wagtail (E014) must get to run.
    from wagtail.admin.admin_url_finder import AdminURLFinder

    from django_babysea.contrib.wagtail.library import library_item_for

    item = library_item_for(image)
    if item is None:
        return {"generation": None}
    generation = item.generation
    request = context.get("request")
    user = getattr(request, "user", None)
    # Whatever admin page the site gives a generation (the Generations area's inspect view),
    # and only when this user may open it.
    url = AdminURLFinder(user).get_edit_url(generation)
    return {
        "generation": generation,
        "output": item.output,
        "generation_url": url,
        "cost": generation.cost_charged,
        "cost_reserved": generation.cost_reserved,
    }
