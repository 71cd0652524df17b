"""Who may see and act on which generation: one policy for the REST API, the admin and other
callers.

The policy class is named by ``BABYSEA["PERMISSION_POLICY"]`` (a dotted path). The default
lets a user see and act on the generations they own, and defers everything else to Django's
permission system (``user.has_perm``), both model-wide and per object, so object-permission
backends such as django-rules or django-guardian work without being dependencies.
"""

from __future__ import annotations

from typing import Any, Final, Protocol, TypeVar

from django.db.models import Model, QuerySet
from django.utils.module_loading import import_string

from django_babysea.conf import babysea_settings
from django_babysea.models import Generation

__all__ = ["ACTIONS", "DefaultPolicy", "PermissionPolicy", "get_policy", "has_staff_permission"]

_M = TypeVar("_M", bound=Model)

#: The permission each action needs on a generation the user does not own. The first four are
#: the REST API's; the admin asks about all of them (``change`` and ``delete_row`` are Django's
#: own change and delete of the local row, ``delete`` is the delete of the files at BabySea).
ACTIONS: Final[dict[str, str]] = {
    "view": "django_babysea.view_generation",
    "submit": "django_babysea.submit_generation",
    "cancel": "django_babysea.cancel_generation",
    "delete": "django_babysea.delete_remote_generation",
    "refresh": "django_babysea.refresh_generation",
    "copy": "django_babysea.copy_generation_outputs",
    "sync": "django_babysea.sync_generations",
    "change": "django_babysea.change_generation",
    "delete_row": "django_babysea.delete_generation",
}


class PermissionPolicy(Protocol):
    def scope_queryset(self, user: Any, qs: QuerySet[_M]) -> QuerySet[_M]: ...

    def has_permission(self, user: Any, action: str, obj: Generation | None = None) -> bool: ...


class DefaultPolicy:
    """Owners act on their own generations; anything else needs the permission.

    * ``scope_queryset``: the user's own generations, or all of them for a user with
      ``django_babysea.view_generation``. Anonymous users see none.
    * ``has_permission(user, action, obj)`` for any action of :data:`ACTIONS`: the owner of
      ``obj`` may; anyone else needs the action's permission (model-wide or on ``obj``), e.g.
      ``cancel_generation`` for ``cancel``. Without ``obj`` the question is model-wide, except
      that ``view`` (of one's own) and ``submit`` (the generation will be theirs) are allowed
      to every authenticated user, ``submit`` unless :attr:`submit_needs_permission` is set.
      The admin adds the model permission in front (:func:`has_staff_permission`).
    """

    #: Set on a subclass to require ``submit_generation`` before anyone may submit.
    submit_needs_permission: bool = False

    def scope_queryset(self, user: Any, qs: QuerySet[_M]) -> QuerySet[_M]:
        if user is None or not user.is_authenticated:
            return qs.none()
        if user.has_perm(ACTIONS["view"]):
            return qs
        return qs.filter(owner=user)

    def has_permission(self, user: Any, action: str, obj: Generation | None = None) -> bool:
        if action not in ACTIONS:
            raise ValueError(f"Unknown action {action!r}; expected one of {', '.join(ACTIONS)}.")
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        submit_open = action == "submit" and not self.submit_needs_permission
        if obj is None and (action == "view" or submit_open):
            return True
        if obj is not None and obj.owner_id is not None and obj.owner_id == user.pk:
            return True
        # ModelBackend answers False to every object check, so ask model-wide too.
        perm = ACTIONS[action]
        return bool(user.has_perm(perm) or (obj is not None and user.has_perm(perm, obj)))


def get_policy() -> PermissionPolicy:
    """An instance of the class named by ``BABYSEA["PERMISSION_POLICY"]``."""
    policy_class = import_string(babysea_settings.PERMISSION_POLICY)
    policy: PermissionPolicy = policy_class()
    return policy


def has_staff_permission(user: Any, action: str, obj: Generation | None = None) -> bool:
    """May ``user`` do ``action`` (to ``obj``) in a staff tool such as the Django admin?

    Django's admin semantics first: the action's model permission opens the feature (``view``
    is opened by the view or the change permission), so a user without it does not see the
    model, the action or the page. Then the configured policy decides, for the user and for
    ``obj`` when there is one. The default policy's open answers (anyone may view their own
    generations and submit new ones) are what the REST API offers; the admin stays gated.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; expected one of {', '.join(ACTIONS)}.")
    if user is None or not user.is_authenticated:
        return False
    gate = (ACTIONS["view"], ACTIONS["change"]) if action == "view" else (ACTIONS[action],)
    if not any(user.has_perm(perm) for perm in gate):
        return False
    return get_policy().has_permission(user, action, obj)
