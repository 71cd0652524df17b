"""The actions on one generation, through the test client against the sandbox: cancel,
delete files, regenerate, refine, import; each refused one is a message, never an error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from wagtail.images import get_image_model
from wagtail.models import Collection, ModelLogEntry

from django_babysea.contrib.wagtail.models import LibraryItem, LibraryTarget
from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox
from django_babysea.services import submit_generation

from .conftest import (
    MODEL,
    PROMPT,
    REFINE_MODEL,
    client_for,
    finish,
    generate,
    make_user,
    messages_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


def url(action: str, generation: Generation) -> str:
    return f"/cms/babysea/generations/{action}/{generation.pk}/"


def inspect(generation: Generation) -> str:
    return url("inspect", generation)


def logged(generation: Generation) -> list[str]:
    return list(
        ModelLogEntry.objects.filter(object_id=str(generation.pk)).values_list("action", flat=True)
    )


# -- cancel -------------------------------------------------------------------------------------


def test_cancel_asks_then_cancels_at_babysea_and_logs_it(
    sandbox: Sandbox, manager: Any, editor: Any, generated: Collection
) -> None:
    running = generate(editor, generated)
    assert running.status == "pending"
    client = client_for(manager)

    confirm = client.get(url("cancel", running))
    assert confirm.status_code == 200
    assert "BabySea refunds the credits" in confirm.content.decode()

    done = client.post(url("cancel", running))

    assert done.status_code == 302
    assert done["Location"] == inspect(running)
    running.refresh_from_db()
    assert running.status == "canceled"
    assert sandbox.generation(str(running.generation_id))["generation_status"] == "canceled"
    assert "babysea_wagtail.cancel" in logged(running)
    assert messages_of(done) == [("success", "Canceled (status: Canceled).")]


def test_cancel_is_refused_without_the_cancel_permission(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    running = generate(editor, generated)

    refused = client_for(editor).post(url("cancel", running))

    assert refused.status_code == 302
    assert refused["Location"] == inspect(running)
    assert messages_of(refused) == [("error", "You may not cancel this generation.")]
    running.refresh_from_db()
    assert running.status == "pending"
    assert "babysea_wagtail.cancel" not in logged(running)


def test_a_finished_generation_cannot_be_canceled(
    sandbox: Sandbox, manager: Any, generated: Collection
) -> None:
    done = finish(sandbox, generate(manager, generated))

    refused = client_for(manager).post(url("cancel", done))

    assert refused.status_code == 302
    assert messages_of(refused) == [
        ("error", "It has already finished: there is nothing to cancel.")
    ]


def test_babysea_refusing_a_cancel_is_a_form_error(
    sandbox: Sandbox, manager: Any, generated: Collection
) -> None:
    running = generate(manager, generated)
    # BabySea finishes it between the confirmation page and the POST; we do not know yet.
    sandbox.advance(str(running.generation_id), to="succeeded")

    answer = client_for(manager).post(url("cancel", running))

    assert answer.status_code == 200
    assert "BabySea can no longer cancel it" in answer.content.decode()


# -- delete -------------------------------------------------------------------------------------


def test_delete_removes_the_files_at_babysea_and_logs_it(
    sandbox: Sandbox, manager: Any, generated: Collection
) -> None:
    done = finish(sandbox, generate(manager, generated))

    answer = client_for(manager).post(url("delete", done))

    assert answer.status_code == 302
    done.refresh_from_db()
    assert done.removed
    assert "babysea_wagtail.delete" in logged(done)
    # The library keeps its image: it is the site's own copy.
    assert LibraryItem.objects.filter(generation=done).count() == 1


def test_delete_is_refused_to_the_owner_without_the_permission(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    done = finish(sandbox, generate(editor, generated))

    refused = client_for(editor).post(url("delete", done))

    assert messages_of(refused) == [
        ("error", "You may not delete this generation's files at BabySea.")
    ]
    done.refresh_from_db()
    assert not done.removed


def test_a_running_generation_cannot_be_deleted(
    sandbox: Sandbox, manager: Any, generated: Collection
) -> None:
    running = generate(manager, generated)
    refused = client_for(manager).post(url("delete", running))
    assert refused.status_code == 302
    assert "still running" in messages_of(refused)[0][1]


# -- regenerate ---------------------------------------------------------------------------------


def test_regenerate_submits_the_same_request_into_the_library_once(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    source = finish(sandbox, generate(editor, generated, generation_ratio="16:9"))
    client = client_for(editor)
    assert client.get(url("regenerate", source)).status_code == 200
    form = {"token": str(uuid.uuid4()), "collection": str(generated.pk)}

    first = client.post(url("regenerate", source), form)
    again = client.post(url("regenerate", source), form)  # the same form posted twice

    new = Generation.objects.exclude(pk=source.pk).get()
    assert first["Location"] == again["Location"] == inspect(new)
    assert new.request == source.request
    assert new.model_identifier == source.model_identifier
    assert new.owner == editor
    assert new.generation_id is not None  # sent to BabySea
    assert LibraryTarget.objects.get(generation=new).collection == generated


def test_regenerate_is_refused_without_a_collection_to_add_images_to(
    sandbox: Sandbox, manager: Any, generated: Collection
) -> None:
    source = generate(manager, generated)
    watcher = make_user("watcher", "view_generation")  # sees everything, adds no images

    refused = client_for(watcher).post(
        url("regenerate", source), {"token": str(uuid.uuid4()), "collection": str(generated.pk)}
    )

    assert refused.status_code == 302
    assert messages_of(refused) == [("error", "You may not generate images into the library.")]
    assert Generation.objects.count() == 1


def test_regenerate_over_the_daily_budget_is_a_form_error(
    sandbox: Sandbox, editor: Any, generated: Collection, configure: Any
) -> None:
    source = generate(editor, generated)
    configure(USER_DAILY_BUDGET="0.004")  # a flux-schnell image costs 0.005

    answer = client_for(editor).post(
        url("regenerate", source), {"token": str(uuid.uuid4()), "collection": str(generated.pk)}
    )

    assert answer.status_code == 200
    assert "Daily budget exceeded" in answer.content.decode()
    assert Generation.objects.count() == 1


# -- refine -------------------------------------------------------------------------------------


def test_refine_sends_the_stored_output_as_the_input_file(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    source = finish(sandbox, generate(editor, generated))
    output = source.outputs.get()
    client = client_for(editor)
    page = client.get(url("refine", source), secure=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert REFINE_MODEL in html
    assert f'value="{MODEL}"' not in html

    answer = client.post(
        url("refine", source),
        {
            "token": str(uuid.uuid4()),
            "output": str(output.pk),
            "model": REFINE_MODEL,
            "prompt": "The same seal, now under the northern lights",
            "collection": str(generated.pk),
        },
        secure=True,
    )

    new = Generation.objects.exclude(pk=source.pk).get()
    assert answer.status_code == 302
    assert answer["Location"] == inspect(new)
    expected = f"https://testserver{output.url}"
    assert new.request["generation_input_file"] == [expected]
    remote = sandbox.generation(str(new.generation_id))
    assert remote["generation_input_file"] == [expected]  # BabySea accepted it
    assert new.model_identifier == REFINE_MODEL


def test_refine_needs_media_served_over_https(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    source = finish(sandbox, generate(editor, generated))

    answer = client_for(editor).post(
        url("refine", source),
        {
            "token": str(uuid.uuid4()),
            "output": str(source.outputs.get().pk),
            "model": REFINE_MODEL,
            "prompt": "Under the northern lights",
            "collection": str(generated.pk),
        },
    )

    assert answer.status_code == 200
    assert "public https:// addresses" in answer.content.decode()
    assert Generation.objects.count() == 1


def test_refine_refuses_a_model_without_input_files(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    source = finish(sandbox, generate(editor, generated))

    answer = client_for(editor).post(
        url("refine", source),
        {
            "token": str(uuid.uuid4()),
            "output": str(source.outputs.get().pk),
            "model": MODEL,
            "prompt": "Under the northern lights",
            "collection": str(generated.pk),
        },
        secure=True,
    )

    assert answer.status_code == 200
    assert "Select a valid choice" in answer.content.decode()
    assert Generation.objects.count() == 1


def test_a_running_generation_has_nothing_to_refine(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    running = generate(editor, generated)
    refused = client_for(editor).get(url("refine", running))
    assert refused.status_code == 302
    assert "stored image output" in messages_of(refused)[0][1]


# -- import -------------------------------------------------------------------------------------


def test_import_adds_the_outputs_to_the_chosen_collection_once(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    # Submitted outside Wagtail (the API, a command): no library target, nothing imported.
    source = submit_generation(MODEL, owner=editor, generation_prompt=PROMPT)
    source = finish(sandbox, source)
    assert not LibraryItem.objects.exists()
    client = client_for(editor)
    form = {"token": str(uuid.uuid4()), "collection": str(generated.pk)}

    answer = client.post(url("import", source), form)

    assert answer.status_code == 302
    assert messages_of(answer) == [("success", "1 output is in the library.")]
    item = LibraryItem.objects.get(generation=source)
    image = get_image_model().objects.get(pk=item.object_id)
    assert image.collection == generated
    assert "babysea_wagtail.import" in logged(source)
    # Imported: not offered again, and a second POST is refused with a message.
    again = client.post(url("import", source), form)
    assert messages_of(again)[-1] == ("error", "Its outputs are already in the library.")
    assert get_image_model().objects.count() == 1


def test_import_is_refused_without_a_collection_to_add_images_to(
    sandbox: Sandbox, editor: Any
) -> None:
    source = finish(sandbox, submit_generation(MODEL, owner=editor, generation_prompt=PROMPT))
    watcher = make_user("watcher", "view_generation")

    refused = client_for(watcher).post(url("import", source), {"token": str(uuid.uuid4())})

    assert messages_of(refused) == [("error", "You may not add images to the library.")]
    assert not LibraryItem.objects.exists()


def test_import_into_a_collection_not_offered_is_a_form_error(
    sandbox: Sandbox, editor: Any, root: Collection
) -> None:
    source = finish(sandbox, submit_generation(MODEL, owner=editor, generation_prompt=PROMPT))
    other = root.add_child(name="Not mine")

    answer = client_for(editor).post(
        url("import", source), {"token": str(uuid.uuid4()), "collection": str(other.pk)}
    )

    assert answer.status_code == 200
    assert "Select a valid choice" in answer.content.decode()
    assert not LibraryItem.objects.exists()


def test_an_action_on_someone_elses_generation_is_not_found(
    sandbox: Sandbox, editor: Any, manager: Any, generated: Collection
) -> None:
    theirs = generate(manager, generated)
    for action in ("cancel", "delete", "regenerate", "refine", "import"):
        assert client_for(editor).post(url(action, theirs)).status_code == 404
