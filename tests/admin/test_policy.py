"""The admin asks the permission policy (``BABYSEA["PERMISSION_POLICY"]``): the rows it shows,
the actions it offers and runs, the status view and the change view all follow a custom policy,
with the sandbox over real HTTP and a live server for the status view."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.test import Client, override_settings
from django.urls import reverse

from django_babysea.models import Generation, GenerationStatus
from django_babysea.policy import DefaultPolicy, has_staff_permission
from django_babysea.sandbox import Sandbox
from django_babysea.services import submit_generation
from tests.services.conftest import MODEL, PROMPT, sandbox, sandbox_settings

from .conftest import BABYSEA_ACTIONS, make_staff
from .test_actions import choose, confirm, texts

__all__ = ["sandbox"]

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "admin:django_babysea_generation_changelist"
STATUS = "admin:django_babysea_generation_status"
POLICY = f"{__name__}.OwnRowsPolicy"


class OwnRowsPolicy(DefaultPolicy):
    """Superusers see every generation, everyone else their own; nobody acts on (or edits)
    another's generation, whatever their permissions."""

    def scope_queryset(self, user: Any, qs: QuerySet[Any]) -> QuerySet[Any]:
        if user.is_authenticated and user.is_superuser:
            return qs
        return super().scope_queryset(user, qs).filter(owner=user)

    def has_permission(self, user: Any, action: str, obj: Generation | None = None) -> bool:
        if action not in ("view", "submit") and obj is not None and obj.owner_id != user.pk:
            return False
        return super().has_permission(user, action, obj)


class NoSubmitPolicy(DefaultPolicy):
    def has_permission(self, user: Any, action: str, obj: Generation | None = None) -> bool:
        return action != "submit" and super().has_permission(user, action, obj)


@pytest.fixture
def policy(sandbox: Sandbox) -> Iterator[Sandbox]:
    with override_settings(BABYSEA=sandbox_settings(sandbox, PERMISSION_POLICY=POLICY)):
        yield sandbox


def staff_with_everything(name: str) -> Any:
    rows = [f"{verb}_generation" for verb in ("view", "add", "change", "delete")]
    return make_staff(name, *rows, *BABYSEA_ACTIONS)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def running(sandbox: Sandbox, owner: Any) -> Generation:
    sandbox.auto_advance = False
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    Generation.objects.filter(pk=generation.pk).update(owner=owner)
    generation.refresh_from_db()
    return generation


def shown(client: Client) -> set[Any]:
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    return set(response.context["cl"].result_list.values_list("pk", flat=True))


def cancels(sandbox: Sandbox) -> list[Any]:
    return [call for call in sandbox.received() if "cancel" in str(call)]


def test_the_list_shows_only_the_rows_the_policy_scopes(policy: Sandbox) -> None:
    alice, bob = staff_with_everything("alice"), staff_with_everything("bob")
    boss = get_user_model().objects.create_superuser("boss", password="pw")
    mine, theirs = running(policy, alice), running(policy, bob)
    assert shown(login(alice)) == {mine.pk}
    assert shown(login(bob)) == {theirs.pk}
    assert shown(login(boss)) == {mine.pk, theirs.pk}


def test_the_status_view_answers_only_scoped_ids(policy: Sandbox) -> None:
    alice, bob = staff_with_everything("alice"), staff_with_everything("bob")
    mine, theirs = running(policy, alice), running(policy, bob)
    ids = f"{mine.pk},{theirs.pk}"
    response = login(alice).get(reverse(STATUS), {"ids": ids})
    assert response.status_code == 200
    assert list(response.json()["generations"]) == [str(mine.pk)]


def test_cancel_refuses_another_users_row_with_a_message(policy: Sandbox) -> None:
    """A superuser sees every row, but the policy lets nobody cancel another's generation."""
    boss = get_user_model().objects.create_superuser("boss", password="pw")
    theirs, own = running(policy, staff_with_everything("bob")), running(policy, boss)
    client = login(boss)
    page = choose(client, "cancel_at_babysea", theirs, own)
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 of 2 selected generations can be acted on" in html
    assert "the permission policy refuses it to you" in html

    response = confirm(client, "cancel_at_babysea", theirs)
    assert response.status_code == 302
    [(level, text)] = texts(response)
    assert level == "warning"
    assert "the permission policy refuses it to you" in text
    assert cancels(policy) == []  # nothing reached BabySea
    theirs.refresh_from_db()
    assert theirs.status == GenerationStatus.PENDING
    assert not LogEntry.objects.exists()

    confirm(client, "cancel_at_babysea", own)
    own.refresh_from_db()
    assert own.status == GenerationStatus.CANCELED  # the policy's yes for one's own row
    assert len(cancels(policy)) == 1


def test_a_forged_post_for_a_row_outside_the_scope_does_nothing(policy: Sandbox) -> None:
    alice = staff_with_everything("alice")
    theirs = running(policy, staff_with_everything("bob"))
    response = confirm(login(alice), "cancel_at_babysea", theirs)
    assert response.status_code in (200, 302)
    assert cancels(policy) == []
    theirs.refresh_from_db()
    assert theirs.status == GenerationStatus.PENDING


def test_the_change_view_asks_with_the_object(policy: Sandbox) -> None:
    boss = get_user_model().objects.create_superuser("boss", password="pw")
    alice = staff_with_everything("alice")
    theirs, own = running(policy, alice), running(policy, boss)

    def page(client: Client, generation: Generation) -> Any:
        return client.get(reverse("admin:django_babysea_generation_change", args=[generation.pk]))

    client = login(boss)
    assert page(client, own).context["has_change_permission"] is True
    other = page(client, theirs)
    assert other.status_code == 200
    assert other.context["has_change_permission"] is False  # read-only: not the boss's row
    assert page(login(alice), own).status_code == 302  # outside alice's scope: "not found"


def test_a_policy_that_refuses_submit_closes_the_create_page(sandbox: Sandbox) -> None:
    path = f"{__name__}.NoSubmitPolicy"
    client = login(staff_with_everything("alice"))
    with override_settings(BABYSEA=sandbox_settings(sandbox, PERMISSION_POLICY=path)):
        assert client.get(reverse("admin:django_babysea_generation_add")).status_code == 403
        response = client.get(reverse(CHANGELIST))
        choices = {value for value, _ in response.context["action_form"].fields["action"].choices}
    assert "resend_to_babysea" not in choices
    assert "cancel_at_babysea" in choices


def test_staff_permission_needs_the_model_permission_then_the_policy(db: None) -> None:
    owner = make_staff("owner", "view_generation")
    own = Generation.objects.create(kind="image", model_identifier=MODEL, owner=owner)
    # The default policy lets an owner cancel through the API; the admin also wants the
    # model permission (Django's admin semantics).
    assert DefaultPolicy().has_permission(owner, "cancel", own)
    assert not has_staff_permission(owner, "cancel", own)
    assert has_staff_permission(owner, "view", own)
    assert has_staff_permission(make_staff("changer", "change_generation"), "view")
    assert not has_staff_permission(make_staff("nobody"), "view")
    with pytest.raises(ValueError, match="Unknown action"):
        has_staff_permission(owner, "explode")


def test_the_status_view_over_real_http_follows_the_policy(live_server: Any) -> None:
    alice, bob = staff_with_everything("alice"), staff_with_everything("bob")
    make = Generation.objects.create
    mine = make(kind="image", model_identifier=MODEL, owner=alice, status="processing")
    theirs = make(kind="image", model_identifier=MODEL, owner=bob, status="processing")
    session = login(alice).cookies[settings.SESSION_COOKIE_NAME].value
    url = f"{live_server.url}{reverse(STATUS)}"
    with override_settings(BABYSEA={**settings.BABYSEA, "PERMISSION_POLICY": POLICY}):
        response = httpx.get(
            url,
            params={"ids": f"{mine.pk},{theirs.pk}"},
            cookies={settings.SESSION_COOKIE_NAME: session},
        )
    assert response.status_code == 200
    assert list(response.json()["generations"]) == [str(mine.pk)]
