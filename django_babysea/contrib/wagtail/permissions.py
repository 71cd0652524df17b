"""Who may generate into which collection of the image library.

Two rules, each owned elsewhere and only combined here: our submit permission (the configured
:mod:`django_babysea.policy`, the same one the admin and the REST API ask) and Wagtail's image
permission policy, which says in which collections a user may add images.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from wagtail.images import get_image_model
from wagtail.models import Collection

from django_babysea.policy import get_policy

__all__ = ["can_generate", "collections_for", "default_collection", "image_permission_policy"]


def image_permission_policy() -> Any:
    """Wagtail's permission policy of the image model, looked up when asked (it follows
    ``WAGTAILIMAGES_IMAGE_MODEL``): Wagtail 8 keeps it in a registry and deprecates the module
    attribute that Wagtail 7.4 sets once its app is ready."""
    try:
        from wagtail.permissions import policy_registry
    except ImportError:  # Wagtail 7.4
        from wagtail.images import permissions

        return permissions.permission_policy
    return policy_registry.get_by_type(get_image_model())


def collections_for(user: Any) -> QuerySet[Collection]:
    """The collections ``user`` may add images to (Wagtail's image permission policy), in tree
    order: the root first when it is one of them."""
    if user is None or not user.is_authenticated:
        return cast("QuerySet[Collection]", Collection.objects.none())
    collections = image_permission_policy().collections_user_has_permission_for(user, "add")
    return cast("QuerySet[Collection]", collections.order_by("path"))


def default_collection(user: Any) -> Collection | None:
    """Where outputs go when no collection is named: the first collection ``user`` may add
    images to (the root when allowed), as Wagtail's own upload form preselects; None when
    there is none."""
    return collections_for(user).first()


def can_generate(user: Any, collection: Collection | None = None) -> bool:
    """May ``user`` submit a generation whose outputs go into ``collection``?

    Needs our ``submit`` permission and Wagtail's image ``add`` permission in ``collection``;
    with no collection, in at least one collection (where :func:`default_collection` puts
    the outputs).
    """
    if not get_policy().has_permission(user, "submit"):
        return False
    allowed = collections_for(user)
    if collection is None:
        return allowed.exists()
    return allowed.filter(pk=collection.pk).exists()
