"""Who may open the Generations area and act on a generation in it.

One rule, the project's: the area is a staff tool, so every decision goes through
:func:`~django_babysea.policy.has_staff_permission` (the model permission first, then the
configured policy), and lists are narrowed by the policy's ``scope_queryset``. The one
addition: a user who may generate into the library (:func:`..permissions.can_generate`, what
the image chooser asks) sees the area too, scoped to their own generations, so they can follow
what they started.
"""

from __future__ import annotations

from typing import Any, Final

from django.db.models import QuerySet
from wagtail.permission_policies.base import BasePermissionPolicy

from django_babysea.contrib.wagtail import permissions
from django_babysea.models import Generation
from django_babysea.policy import ACTIONS, get_policy, has_staff_permission

__all__ = ["AreaPermissionPolicy", "may", "may_open_area", "may_see", "scoped", "sees_everyone"]

#: The area's own Wagtail-side actions: only looking. Cancel, delete, regenerate and the rest
#: are asked of :func:`may` with the project's action names.
_LOOK: Final = frozenset({"view"})
_CACHE: Final = "_babysea_area_open"


def may_open_area(user: Any) -> bool:
    """May ``user`` see the Generations area (menu item, list, inspect, chooser)?

    Asked by the menu on every admin page: the answer is kept on the user object (one per
    request), as Wagtail keeps its own permission answers."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    answer = getattr(user, _CACHE, None)
    if answer is None:
        answer = has_staff_permission(user, "view") or permissions.can_generate(user)
        setattr(user, _CACHE, answer)
    return bool(answer)


def sees_everyone(user: Any) -> bool:
    """Does the policy show ``user`` everyone's generations (not just their own)?"""
    return bool(user is not None and user.is_authenticated and user.has_perm(ACTIONS["view"]))


def scoped(user: Any, queryset: QuerySet[Generation] | None = None) -> QuerySet[Generation]:
    """The generations ``user`` may see in the area: none unless :func:`may_open_area`, then
    what the permission policy's ``scope_queryset`` leaves."""
    queryset = Generation.objects.all() if queryset is None else queryset
    if not may_open_area(user):
        return queryset.none()
    return get_policy().scope_queryset(user, queryset)


def may_see(user: Any, generation: Generation) -> bool:
    """May ``user`` look at ``generation`` in the area (and so import or regenerate it)?"""
    return may_open_area(user) and get_policy().has_permission(user, "view", generation)


def may(user: Any, action: str, generation: Generation | None = None) -> bool:
    """May ``user`` do ``action`` (a key of :data:`~django_babysea.policy.ACTIONS`) to
    ``generation`` from the area? The same answer as in the Django admin."""
    return may_open_area(user) and has_staff_permission(user, action, generation)


class AreaPermissionPolicy(BasePermissionPolicy):  # type: ignore[misc]
    """Wagtail's view of the rule above, for the viewsets: ``view`` only (the area never adds
    or edits a generation through Wagtail's generic forms)."""

    def user_has_permission(self, user: Any, action: str) -> bool:
        return action in _LOOK and may_open_area(user)

    def user_has_permission_for_instance(self, user: Any, action: str, instance: Any) -> bool:
        return (
            action in _LOOK
            and may_open_area(user)
            and get_policy().has_permission(user, "view", instance)
        )

    def instances_user_has_any_permission_for(
        self, user: Any, actions: Any
    ) -> QuerySet[Generation]:
        if not _LOOK.intersection(actions):
            return Generation.objects.none()
        return scoped(user)

    def users_with_any_permission(self, actions: Any) -> Any:
        from django.contrib.auth import get_user_model

        # Only used by Wagtail to notify people; nobody is notified about generations.
        return get_user_model().objects.none()
