"""``babysea_generate --owner USERNAME``: the generation is the user's, and their daily budget
applies."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from django_babysea.models import BudgetDay, Generation
from django_babysea.policy import get_policy
from django_babysea.sandbox import Sandbox
from tests.services.conftest import sandbox_settings

from .conftest import MODEL, PROMPT, Manage

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("babysea_generate", PROMPT, "--model", MODEL, *args, stdout=out)
    return out.getvalue()


def creates(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.received() if r["method"] == "POST" and "generate" in r["path"]]


@pytest.fixture
def alice(db: None) -> Any:
    return get_user_model().objects.create_user("alice", password="pw")


@pytest.fixture
def budget(sandbox: Sandbox) -> Iterator[Sandbox]:
    """A daily budget of one credit a user (the sandbox's images cost far less)."""
    with override_settings(BABYSEA=sandbox_settings(sandbox, USER_DAILY_BUDGET="1")):
        yield sandbox


def test_owner_owns_and_spends_their_budget(budget: Sandbox, alice: Any) -> None:
    out = run("--owner", "alice", "--interval", "0.01")
    generation = Generation.objects.get()
    assert generation.owner == alice
    assert generation.status == "succeeded"
    assert f"Created generation {generation.pk} ({MODEL}, image)" in out.splitlines()[0]
    # The policy sees it as alice's.
    assert list(get_policy().scope_queryset(alice, Generation.objects.all())) == [generation]
    day = BudgetDay.objects.get(user=alice)
    assert day.used > Decimal(0)
    assert day.used == generation.cost_reserved
    assert len(creates(budget)) == 1


def test_without_owner_nothing_is_budgeted(budget: Sandbox, alice: Any) -> None:
    run("--interval", "0.01")
    assert Generation.objects.get().owner is None
    assert not BudgetDay.objects.exists()


def test_unknown_owner_is_one_line_and_nothing_is_sent(budget: Sandbox, alice: Any) -> None:
    with pytest.raises(CommandError) as caught:
        run("--owner", "ghost")
    assert str(caught.value) == "No user with the username 'ghost'."
    assert not Generation.objects.exists()
    assert not creates(budget)


def test_inactive_owner_is_refused_by_the_policy(budget: Sandbox, alice: Any) -> None:
    alice.is_active = False
    alice.save()
    with pytest.raises(CommandError, match="may not submit"):
        run("--owner", "alice")
    assert not Generation.objects.exists()


def test_over_budget_says_when_it_resets(sandbox: Sandbox, alice: Any) -> None:
    config = sandbox_settings(sandbox, USER_DAILY_BUDGET="0.001")
    with override_settings(BABYSEA=config), pytest.raises(CommandError) as caught:
        run("--owner", "alice")
    message = str(caught.value)
    assert message.startswith("Daily budget exceeded:")
    assert "The budget resets at " in message
    assert "\n" not in message
    assert not Generation.objects.exists()
    assert not creates(sandbox)


def test_owner_as_a_process(sandbox: Sandbox, manage: Manage) -> None:
    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    made = manage("createsuperuser", "--no-input", "--username", "carol", "--email", "c@x.test")
    assert made.returncode == 0, made.stderr
    manage.env["BABYSEA_USER_DAILY_BUDGET"] = "0.001"  # type: ignore[attr-defined]
    refused = manage("babysea_generate", PROMPT, "--model", MODEL, "--owner", "carol")
    assert refused.returncode == 1
    err = refused.stderr.strip().splitlines()
    assert len(err) == 1, refused.stderr
    assert err[0].startswith("CommandError: Daily budget exceeded:")
    assert "resets at" in err[0]
    unknown = manage("babysea_generate", PROMPT, "--model", MODEL, "--owner", "nobody")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "CommandError: No user with the username 'nobody'."
    assert not creates(sandbox)

    manage.env["BABYSEA_USER_DAILY_BUDGET"] = "10"  # type: ignore[attr-defined]
    done = manage(
        "babysea_generate", PROMPT, "--model", MODEL, "--owner", "carol", "--interval", "0.05"
    )
    assert done.returncode == 0, done.stderr
    assert "Status: succeeded" in done.stdout.splitlines()
    assert len(creates(sandbox)) == 1


def test_owner_waits_for_a_worker_to_send(
    budget: Sandbox, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a job backend (Celery) the send is a worker's: the command follows the row until
    the worker's send gives it BabySea's id. Here the "worker" runs at the command's first
    pause."""
    from django_babysea.management.commands.babysea_generate import Command
    from django_babysea.services import dispatch

    queued: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(dispatch, "_start", lambda name, args: queued.append((name, args)))
    monkeypatch.setattr(dispatch, "runs_inline_now", lambda: False)  # as with a worker
    real_pause = Command.pause

    def pause(self: Command) -> None:
        while queued:
            name, args = queued.pop()
            dispatch.job(name)(*args)
        real_pause(self)

    monkeypatch.setattr(Command, "pause", pause)
    out = run("--owner", "alice", "--interval", "0.01")
    statuses = [line for line in out.splitlines() if line.startswith("Status: ")]
    assert statuses[0] == "Status: created"
    assert statuses[-1] == "Status: succeeded"
    generation = Generation.objects.get()
    assert generation.owner == alice
    assert len(creates(budget)) == 1
