"""Renditions in the generation admin: what the change view shows of each output, and the
"Make renditions again" action, on the real copy path (sandbox outputs copied into a
file-system storage of the test's own)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.template.defaultfilters import floatformat
from django.test import Client
from django.urls import reverse

from django_babysea.models import Generation, GenerationOutput
from django_babysea.policy import DefaultPolicy
from django_babysea.renditions import find_ffmpeg
from django_babysea.sandbox import Sandbox
from tests.outputs.conftest import VIDEO_MODEL, configure, media, sandbox, succeed

from .conftest import make_staff

__all__ = ["configure", "media", "sandbox"]

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "admin:django_babysea_generation_changelist"
ACTION = "make_renditions_again"
TIMES = " \N{MULTIPLICATION SIGN} "


def page(client: Client, generation: Generation) -> str:
    response = client.get(reverse("admin:django_babysea_generation_change", args=[generation.pk]))
    assert response.status_code == 200
    return response.content.decode()


def choose(client: Client, *rows: Generation) -> Any:
    data = {"action": ACTION, "index": "0", "_selected_action": [str(row.pk) for row in rows]}
    return client.post(reverse(CHANGELIST), data)


def texts(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def logged(row: Generation) -> list[str]:
    entries = LogEntry.objects.filter(object_id=str(row.pk))
    return list(entries.values_list("change_message", flat=True))


def offered(client: Client) -> bool:
    response = client.get(reverse(CHANGELIST))
    return ACTION in {
        value for value, _ in response.context["action_form"].fields["action"].choices
    }


class OwnersOnlyPolicy(DefaultPolicy):
    """Nobody copies (or renders) another's generation, whatever their permissions."""

    def has_permission(self, user: Any, action: str, obj: Generation | None = None) -> bool:
        if action == "copy" and obj is not None and obj.owner_id != user.pk:
            return False
        return super().has_permission(user, action, obj)


# -- the change view ----------------------------------------------------------------------------


def test_change_view_lists_each_rendition_linked(
    sandbox: Sandbox, configure: Callable[..., None], editor_client: Client
) -> None:
    configure(RENDITION_WIDTHS=[320, 640], RENDITION_FORMATS=["webp"])
    generation = succeed(sandbox, generation_ratio="16:9")
    output = generation.outputs.get()
    assert sorted(item["width"] for item in output.renditions) == [320, 640]
    text = page(editor_client, generation)
    assert f"{output.width}{TIMES}{output.height}" in text
    for item in output.renditions:
        link = f'<a href="/media/{item["name"]}"'
        assert link in text, item
        assert f"webp{TIMES}{item['width']}" in text
    assert "Renditions" in text
    assert "Rendition error" not in text


def test_change_view_shows_a_rendition_error(
    sandbox: Sandbox, configure: Callable[..., None], editor_client: Client
) -> None:
    generation = succeed(sandbox)
    GenerationOutput.objects.filter(generation=generation).update(
        rendition_error="The image is <huge>, more than allowed."
    )
    text = page(editor_client, generation)
    assert "Rendition error" in text
    assert html.escape("The image is <huge>, more than allowed.") in text
    assert "<huge>" not in text


@pytest.mark.skipif(find_ffmpeg(None) is None, reason="needs ffmpeg (imageio-ffmpeg)")
def test_change_view_shows_a_videos_duration_and_poster(
    sandbox: Sandbox, editor_client: Client
) -> None:
    generation = succeed(sandbox, VIDEO_MODEL, generation_duration=5)
    output = generation.outputs.get()
    assert output.duration
    text = page(editor_client, generation)
    assert f"{floatformat(output.duration, '-2')} s" in text
    [poster] = output.renditions
    assert f'<a href="/media/{poster["name"]}"' in text
    assert f"poster (jpeg{TIMES}{poster['width']})" in text


# -- the action ---------------------------------------------------------------------------------


def test_make_renditions_again_after_a_settings_change(
    sandbox: Sandbox, configure: Callable[..., None], media: Path, editor_client: Client
) -> None:
    configure(RENDITION_WIDTHS=[320], RENDITION_FORMATS=["webp"])
    generation = succeed(sandbox)
    configure(RENDITION_WIDTHS=[400], RENDITION_FORMATS=["webp"])
    response = choose(editor_client, generation)
    assert response.status_code == 302
    output = generation.outputs.get()
    assert [(item["format"], item["width"]) for item in output.renditions] == [("webp", 400)]
    assert (media / output.renditions[0]["name"]).exists()
    assert not (media / output.name).with_name("0.320w.webp").exists()
    label = f"{generation.model_identifier} {str(generation.generation_id)[:8]}"
    assert texts(response) == [("success", f"{label}: renditions made for 1 output (1 file)")]
    assert logged(generation) == ["Make renditions again: renditions made for 1 output (1 file)"]


def test_a_failure_is_an_error_message_and_recorded(
    sandbox: Sandbox, configure: Callable[..., None], editor_client: Client
) -> None:
    generation = succeed(sandbox)
    configure(RENDITION_MAX_PIXELS=10)
    response = choose(editor_client, generation)
    [(level, text)] = texts(response)
    assert level == "error"
    assert "#1: The image is" in text
    assert "RENDITION_MAX_PIXELS" in text
    output = generation.outputs.get()
    assert "RENDITION_MAX_PIXELS" in output.rendition_error
    assert "RENDITION_MAX_PIXELS" in page(editor_client, generation)
    assert "RENDITION_MAX_PIXELS" in logged(generation)[0]


def test_rows_without_stored_outputs_are_skipped(
    sandbox: Sandbox, configure: Callable[..., None], editor_client: Client
) -> None:
    from django_babysea.services import submit_generation

    unfinished = submit_generation("bfl/flux-schnell", generation_prompt="A walrus")
    response = choose(editor_client, unfinished)
    [(level, text)] = texts(response)
    assert level == "warning"
    assert text.endswith("no stored output: nothing to make renditions of")
    assert not logged(unfinished)


def test_renditions_off_is_a_warning(
    sandbox: Sandbox, configure: Callable[..., None], editor_client: Client
) -> None:
    generation = succeed(sandbox)
    before = generation.outputs.get().renditions
    configure(RENDITIONS=False)
    [(level, text)] = texts(choose(editor_client, generation))
    assert level == "warning"
    assert "renditions are off" in text
    assert generation.outputs.get().renditions == before


def test_the_action_needs_the_copy_permission(sandbox: Sandbox) -> None:
    generation = succeed(sandbox)
    copier, other = Client(), Client()
    copier.force_login(make_staff("copier", "view_generation", "copy_generation_outputs"))
    other.force_login(make_staff("other", "view_generation", "refresh_generation"))
    assert offered(copier)
    assert not offered(other)
    # A forged post without the permission changes nothing.
    GenerationOutput.objects.filter(generation=generation).update(renditions=[])
    assert choose(other, generation).status_code == 403
    assert generation.outputs.get().renditions == []
    assert choose(copier, generation).status_code == 302
    assert generation.outputs.get().renditions != []


def test_the_policy_decides_per_row(
    sandbox: Sandbox, configure: Callable[..., None], editor: Any, editor_client: Client
) -> None:
    configure(PERMISSION_POLICY=f"{__name__}.OwnersOnlyPolicy")
    mine = succeed(sandbox)
    Generation.objects.filter(pk=mine.pk).update(owner=editor)
    theirs = succeed(sandbox)
    GenerationOutput.objects.update(renditions=[])
    response = choose(editor_client, mine, theirs)
    levels = sorted(level for level, _ in texts(response))
    assert levels == ["success", "warning"]
    assert mine.outputs.get().renditions != []
    assert theirs.outputs.get().renditions == []
    assert any("the permission policy refuses it to you" in text for _, text in texts(response))
