"""The BabySea actions of the generation change list, against the sandbox over real HTTP."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.urls import reverse

from django_babysea.client import BabySea
from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import create_generation, refresh_generation, submit_generation
from django_babysea.services.connection import clear_clients
from tests.services.conftest import (
    MODEL,
    PROMPT,
    no_remote_call_in_a_transaction,
    remote,
    sandbox,
    sandbox_settings,
)

from .conftest import make_staff

__all__ = ["no_remote_call_in_a_transaction", "remote", "sandbox"]

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "admin:django_babysea_generation_changelist"
ACTIONS = {
    "cancel_at_babysea": "cancel_generation",
    "delete_at_babysea": "delete_remote_generation",
    "resend_to_babysea": "submit_generation",
    "refresh_from_babysea": "refresh_generation",
    "copy_outputs_again": "copy_generation_outputs",
    "sync_from_babysea": "sync_generations",
}


def choose(client: Client, action: str, *rows: Generation) -> Any:
    """Pick ``action`` in the change list's action bar with ``rows`` ticked."""
    data = {
        "action": action,
        "index": "0",
        "_selected_action": [str(row.pk) for row in rows],
    }
    return client.post(reverse(CHANGELIST), data)


def confirm(client: Client, action: str, *rows: Generation) -> Any:
    """Press "Yes, I'm sure" on the confirmation page."""
    data = {"action": action, "post": "yes", "_selected_action": [str(row.pk) for row in rows]}
    return client.post(reverse(CHANGELIST), data)


def texts(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def logged(row: Generation) -> list[str]:
    return list(
        LogEntry.objects.filter(object_id=str(row.pk)).values_list("change_message", flat=True)
    )


def running(sandbox: Sandbox) -> Generation:
    sandbox.auto_advance = False
    return submit_generation(MODEL, generation_prompt=PROMPT)


def finished(sandbox: Sandbox) -> Generation:
    generation = running(sandbox)
    sandbox.advance(str(generation.generation_id), to="succeeded")
    return refresh_generation(generation)


def action_choices(client: Client) -> set[str]:
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    form = response.context["action_form"]
    if form is None:  # no action at all: the admin shows no action bar
        return set()
    return {value for value, _label in form.fields["action"].choices if value}


# -- registration and permissions ----------------------------------------------------------------


def test_every_action_is_offered_to_an_editor(editor_client: Client) -> None:
    assert set(ACTIONS) <= action_choices(editor_client)


def test_a_viewer_sees_no_babysea_action(viewer_client: Client) -> None:
    assert not set(ACTIONS) & action_choices(viewer_client)


@pytest.mark.parametrize(("action", "codename"), ACTIONS.items())
def test_each_action_needs_its_own_permission(action: str, codename: str) -> None:
    client = Client()
    client.force_login(make_staff("one", "view_generation", codename))
    assert set(ACTIONS) & action_choices(client) == {action}


def _refused(sandbox: Sandbox, client: Client, action: str, *, status: int) -> list[str]:
    generation = running(sandbox)
    calls = len(sandbox.received())
    warnings = []
    for post in (choose, confirm):
        response = post(client, action, generation)
        assert response.status_code == status
        warnings += [text for level, text in texts(response) if level == "warning"]
    assert len(sandbox.received()) == calls
    assert Generation.objects.get().status == generation.status
    assert not LogEntry.objects.exists()
    return warnings


@pytest.mark.parametrize(("action", "codename"), ACTIONS.items())
def test_a_forged_post_without_the_permission_is_refused(
    sandbox: Sandbox, action: str, codename: str
) -> None:
    others = [other for other in ACTIONS.values() if other != codename]
    client = Client()
    client.force_login(make_staff("almost", "view_generation", *others))
    assert _refused(sandbox, client, action, status=403) == []


@pytest.mark.parametrize("action", ACTIONS)
def test_a_forged_post_from_a_viewer_does_nothing(
    sandbox: Sandbox, viewer_client: Client, action: str
) -> None:
    assert _refused(sandbox, viewer_client, action, status=403) == []


# -- cancel ---------------------------------------------------------------------------------------


def test_cancel_asks_first_then_cancels_at_babysea(sandbox: Sandbox, editor_client: Client) -> None:
    live, done = running(sandbox), finished(sandbox)
    page = choose(editor_client, "cancel_at_babysea", live, done)
    assert page.status_code == 200
    assert "available_apps" in page.context  # rendered with each_context(): themes keep menus
    html = page.content.decode()
    assert "1 of 2 selected generations can be acted on" in html
    assert "already finished: cannot cancel" in html
    assert '<input type="submit"' in html
    assert str(live.cost_reserved) in html
    assert sandbox.generation(str(live.generation_id))["generation_status"] == "pending"  # type: ignore[index]

    response = confirm(editor_client, "cancel_at_babysea", live, done)
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.status == "canceled"
    assert sandbox.generation(str(live.generation_id))["generation_status"] == "canceled"  # type: ignore[index]
    messages = texts(response)
    assert any(
        level == "success" and "canceled (status: Canceled)" in text for level, text in messages
    )
    assert any(level == "warning" and "already finished" in text for level, text in messages)
    assert logged(live) == ["Cancel at BabySea: canceled (status: Canceled)"]
    assert logged(done) == []


def test_cancel_refused_by_babysea_is_a_message(sandbox: Sandbox, editor_client: Client) -> None:
    generation = running(sandbox)
    # Finished at BabySea, not yet known here: the row still looks cancelable.
    sandbox.advance(str(generation.generation_id), to="succeeded")
    response = confirm(editor_client, "cancel_at_babysea", generation)
    assert response.status_code == 302
    [(level, text)] = texts(response)
    assert level == "error"
    assert "BabySea can no longer cancel it" in text
    assert "BSE2012" in text or "BSE2013" in text
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert "can no longer cancel" in logged(generation)[0]


# -- delete ---------------------------------------------------------------------------------------


def test_delete_a_finished_generation(sandbox: Sandbox, editor_client: Client) -> None:
    done, live = finished(sandbox), running(sandbox)
    assert GenerationOutput.objects.filter(generation=done, state=OutputState.STORED).count() == 1
    page = choose(editor_client, "delete_at_babysea", done, live)
    html = page.content.decode()
    assert "not terminal: cannot delete yet" in html
    assert str(done.cost_charged) in html

    response = confirm(editor_client, "delete_at_babysea", done, live)
    assert response.status_code == 302
    done.refresh_from_db()
    assert done.removed is True
    assert sandbox.generation(str(done.generation_id))["generation_removed"] is True  # type: ignore[index]
    assert not GenerationOutput.objects.filter(generation=done, state=OutputState.STORED).exists()
    messages = texts(response)
    assert any(level == "success" and "files deleted at BabySea" in t for level, t in messages)
    assert logged(done) == ["Delete at BabySea: files deleted at BabySea; 1 local copies deleted"]
    live.refresh_from_db()
    assert live.removed is False


def test_only_ineligible_rows_offer_no_confirm_button(
    sandbox: Sandbox, editor_client: Client
) -> None:
    page = choose(editor_client, "delete_at_babysea", running(sandbox))
    html = page.content.decode()
    assert "0 of 1 selected generation can be acted on" in html
    assert 'name="post"' in html
    assert '<input type="submit"' not in html


# -- refresh, copy, sync --------------------------------------------------------------------------


def test_refresh(sandbox: Sandbox, editor_client: Client) -> None:
    generation = running(sandbox)
    sandbox.advance(str(generation.generation_id), to="succeeded")
    response = choose(editor_client, "refresh_from_babysea", generation)
    assert response.status_code == 302
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert texts(response) == [
        (
            "success",
            f"{MODEL} {str(generation.generation_id)[:8]}: refreshed (status: Succeeded)",
        )
    ]
    assert logged(generation) == ["Refresh from BabySea: refreshed (status: Succeeded)"]


def test_copy_outputs_again(sandbox: Sandbox, editor_client: Client) -> None:
    generation = running(sandbox)
    sandbox.advance(str(generation.generation_id), to="succeeded")
    sandbox.inject("output_status", status=500, method="GET", path="/files/*")
    refresh_generation(generation)
    output = GenerationOutput.objects.get(generation=generation)
    assert output.state == OutputState.FAILED

    response = choose(editor_client, "copy_outputs_again", generation)
    assert response.status_code == 302
    output.refresh_from_db()
    assert output.state == OutputState.STORED
    assert texts(response)[0][0] == "success"
    assert "1 outputs copied" in texts(response)[0][1]
    assert logged(generation) == ["Copy outputs again: 1 outputs copied"]


def test_sync_runs_with_nothing_selected(
    sandbox: Sandbox, remote: BabySea, editor_client: Client
) -> None:
    made = remote.generate(MODEL, generation_prompt="A sea otter")
    response = editor_client.post(
        reverse(CHANGELIST), {"action": "sync_from_babysea", "index": "0"}
    )
    assert response.status_code == 302
    assert Generation.objects.filter(generation_id=made.generation_id).exists()
    assert texts(response) == [("success", "Synced from BabySea: 1 new, 0 changed.")]
    entry = LogEntry.objects.get()
    assert entry.change_message == "Synced from BabySea: 1 new, 0 changed."


# -- errors ---------------------------------------------------------------------------------------


def test_insufficient_credits_on_resend(sandbox: Sandbox, editor_client: Client) -> None:
    generation = create_generation(MODEL, {"generation_prompt": PROMPT})
    sandbox.set_balance("0.001")
    page = choose(editor_client, "resend_to_babysea", generation)
    assert "1 of 1 selected generation can be acted on" in page.content.decode()
    response = confirm(editor_client, "resend_to_babysea", generation)
    assert response.status_code == 302
    [(level, text)] = texts(response)
    assert level == "error"
    assert "BSE1004" in text
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert "BSE1004" in logged(generation)[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("action", "confirmed"),
    [
        ("refresh_from_babysea", False),
        ("cancel_at_babysea", True),
        ("sync_from_babysea", False),
    ],
)
def test_babysea_unreachable_is_a_message(
    sandbox: Sandbox, editor_client: Client, action: str, confirmed: bool
) -> None:
    generation = running(sandbox)
    closed = sandbox_settings(sandbox, BASE_URL=f"http://127.0.0.1:{_closed_port()}")
    clear_clients()
    with override_settings(BABYSEA=closed):
        response = (confirm if confirmed else choose)(editor_client, action, generation)
    clear_clients()
    assert response.status_code == 302
    [(level, text)] = texts(response)
    assert level == "error"
    assert "could not be reached" in text
    assert sandbox.api_key not in text
    generation.refresh_from_db()
    assert generation.status == "pending"
