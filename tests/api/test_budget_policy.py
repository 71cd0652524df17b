"""The daily budget endpoint and refusal, and the pluggable permission policy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import QuerySet
from django.test import override_settings
from rest_framework.test import APIClient  # type: ignore[import-untyped]

from django_babysea.models import Generation, GenerationKind
from django_babysea.policy import DefaultPolicy, get_policy
from django_babysea.sandbox import Sandbox
from tests.services.conftest import sandbox_settings

from .conftest import MODEL, PROMPT, url

pytestmark = pytest.mark.django_db(transaction=True)


def create(client: APIClient) -> Any:
    body = {"model": MODEL, "generation_prompt": PROMPT}
    return client.post(url("generations"), body, format="json")


def test_budget_without_limit(alice_client: APIClient) -> None:
    body = alice_client.get(url("budget")).json()
    assert body["limit"] is None
    assert body["remaining"] is None
    assert Decimal(body["used"]) == 0
    assert body["resets_at"]


def test_budget_is_reserved_then_exceeded_with_429(
    catalog: Sandbox, alice_client: APIClient
) -> None:
    catalog.auto_advance = False
    with override_settings(BABYSEA=sandbox_settings(catalog, USER_DAILY_BUDGET="0.007")):
        assert create(alice_client).status_code == 201
        budget = alice_client.get(url("budget")).json()
        assert Decimal(budget["limit"]) == Decimal("0.007")
        assert Decimal(budget["reserved"]) > 0
        assert Decimal(budget["remaining"]) < Decimal("0.007")
        refused = create(alice_client)
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "budget_exceeded"
    assert body["resets_at"] == budget["resets_at"]
    assert "Daily budget exceeded" in body["detail"]
    assert int(refused["Retry-After"]) >= 1
    assert Generation.objects.count() == 1


class OwnOnlyPolicy(DefaultPolicy):
    """Nobody acts on anyone else's generations, whatever their permissions."""

    submit_needs_permission = True

    def scope_queryset(self, user: Any, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.filter(owner=user) if user.is_authenticated else qs.none()


def test_default_policy_rules(alice: Any, bob: Any) -> None:
    from tests.admin.conftest import make_staff

    policy = get_policy()
    assert isinstance(policy, DefaultPolicy)
    own = Generation.objects.create(owner=alice, kind=GenerationKind.IMAGE, model_identifier=MODEL)
    for action in ("view", "cancel", "delete"):
        assert policy.has_permission(alice, action, own)
        assert not policy.has_permission(bob, action, own)
    assert policy.has_permission(bob, "submit")
    ops = make_staff("ops", "cancel_generation")
    assert policy.has_permission(ops, "cancel", own)
    assert not policy.has_permission(ops, "delete", own)
    assert list(policy.scope_queryset(bob, Generation.objects.all())) == []
    with pytest.raises(ValueError, match="Unknown action"):
        policy.has_permission(alice, "explode", own)


def test_policy_is_loaded_from_settings(
    catalog: Sandbox, alice: Any, alice_client: APIClient
) -> None:
    from tests.admin.conftest import make_staff
    from tests.api.conftest import client_for

    Generation.objects.create(owner=alice, kind=GenerationKind.IMAGE, model_identifier=MODEL)
    viewer = client_for(make_staff("viewer", "view_generation"))
    path = f"{__name__}.OwnOnlyPolicy"
    with override_settings(BABYSEA=sandbox_settings(catalog, PERMISSION_POLICY=path)):
        assert isinstance(get_policy(), OwnOnlyPolicy)
        assert viewer.get(url("generations")).json()["count"] == 0
        refused = create(alice_client)
        assert refused.status_code == 403
    assert viewer.get(url("generations")).json()["count"] == 1
    assert Generation.objects.count() == 1
