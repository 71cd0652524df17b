"""Generating into the image library: who may, what is stored with the generation, and that a
refusal stores and sends nothing (real sandbox, real database, real storage)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from wagtail.images import get_image_model
from wagtail.models import Collection, ModelLogEntry

from django_babysea.client import BabySea
from django_babysea.contrib.wagtail.library import (
    GENERATE_ACTION,
    IMPORT_ACTION,
    generation_for_image,
    submit_to_library,
)
from django_babysea.contrib.wagtail.models import LibraryItem, LibraryTarget
from django_babysea.contrib.wagtail.permissions import can_generate, collections_for
from django_babysea.models import Generation, GenerationStatus
from django_babysea.policy import DefaultPolicy
from django_babysea.sandbox import Sandbox
from django_babysea.services import BudgetExceededError

from .conftest import IMAGE_MODEL, PROMPT, finish

pytestmark = pytest.mark.django_db(transaction=True)


class SubmitNeedsPermission(DefaultPolicy):
    submit_needs_permission = True


def remote_count(sandbox: Sandbox) -> int:
    """How many generations BabySea (the sandbox) was asked to create."""
    with BabySea(sandbox.api_key, base_url=sandbox.url, max_retries=0) as client:
        return client.list_generations().total


def assert_nothing_stored_or_sent(sandbox: Sandbox) -> None:
    assert Generation.objects.count() == 0
    assert LibraryTarget.objects.count() == 0
    assert ModelLogEntry.objects.filter(action=GENERATE_ACTION).count() == 0
    assert remote_count(sandbox) == 0


def test_an_editor_generates_into_a_collection(
    catalog: Sandbox, editor: Any, generated: Collection
) -> None:
    submission = submit_to_library(
        editor,
        IMAGE_MODEL,
        {"generation_prompt": PROMPT, "generation_ratio": "16:9"},
        collection=generated,
        tags=["seals", " Seals ", "winter", ""],
    )
    generation = submission.generation
    assert submission.created
    assert generation.owner == editor
    assert generation.status == GenerationStatus.PENDING  # sent once the transaction committed
    assert remote_count(catalog) == 1
    target = generation.library_target
    assert (target.collection, target.requested_by) == (generated, editor)
    assert target.title == target.description == PROMPT  # drafted from the prompt
    assert target.tags == ["seals", "winter"]
    entry = ModelLogEntry.objects.get(action=GENERATE_ACTION)
    assert (entry.user_id, entry.object_id) == (editor.pk, str(generation.pk))
    assert entry.data["model"] == IMAGE_MODEL

    generation = finish(catalog, generation)

    image = get_image_model().objects.get()
    output = generation.outputs.get()
    assert (image.title, image.description, image.collection) == (PROMPT, PROMPT, generated)
    assert image.uploaded_by_user == editor
    assert sorted(image.tags.names()) == ["seals", "winter"]
    assert (image.width, image.height) == (output.width, output.height)
    with image.open_file() as handle, output_file(output) as original:
        assert handle.read() == original.read()  # the bytes as BabySea delivered them
    assert generation_for_image(image) == generation
    item = LibraryItem.objects.get()
    assert (item.output, item.imported_by, item.file_hash) == (output, editor, image.file_hash)
    assert ModelLogEntry.objects.filter(action=IMPORT_ACTION, object_id=str(generation.pk)).exists()


def output_file(output: Any) -> Any:
    from django.core.files.storage import storages

    return storages[output.storage].open(output.name, "rb")


def test_title_alt_text_and_defaults(catalog: Sandbox, editor: Any, generated: Collection) -> None:
    long_prompt = " ".join(["A harbor seal pup on a snowy ice floe at dawn"] * 12)
    submission = submit_to_library(
        editor, IMAGE_MODEL, {"generation_prompt": long_prompt}, title="  Seal pup  "
    )
    target = submission.generation.library_target
    assert target.collection == generated  # the only collection this editor may add to
    assert target.title == "Seal pup"
    assert len(target.description) <= 255
    assert target.description.endswith("…")
    assert long_prompt.startswith(target.description[:-1])


def test_a_superuser_generates_into_the_root_by_default(catalog: Sandbox, root: Collection) -> None:
    admin = get_user_model().objects.create_superuser("admin", password="pw")
    submission = submit_to_library(admin, IMAGE_MODEL, {"generation_prompt": PROMPT})
    assert submission.generation.library_target.collection == root


def test_an_editor_without_the_collection_permission_cannot_generate(
    catalog: Sandbox, outsider: Any, generated: Collection, elsewhere: Collection
) -> None:
    assert list(collections_for(outsider)) == [elsewhere]
    assert not can_generate(outsider, generated)
    assert can_generate(outsider, elsewhere)
    assert can_generate(outsider)
    with pytest.raises(PermissionDenied):
        submit_to_library(
            outsider, IMAGE_MODEL, {"generation_prompt": PROMPT}, collection=generated
        )
    assert_nothing_stored_or_sent(catalog)


def test_a_user_without_any_image_permission_cannot_generate(catalog: Sandbox, root: Any) -> None:
    nobody = get_user_model().objects.create_user("nobody", password="pw")
    assert not can_generate(nobody)
    with pytest.raises(PermissionDenied):
        submit_to_library(nobody, IMAGE_MODEL, {"generation_prompt": PROMPT})
    assert_nothing_stored_or_sent(catalog)


def test_our_submit_permission_is_asked_too(
    catalog: Sandbox, configure: Callable[..., None], editor: Any, generated: Collection
) -> None:
    configure(PERMISSION_POLICY=f"{__name__}.SubmitNeedsPermission")
    assert not can_generate(editor, generated)
    with pytest.raises(PermissionDenied):
        submit_to_library(editor, IMAGE_MODEL, {"generation_prompt": PROMPT}, collection=generated)
    assert_nothing_stored_or_sent(catalog)


def test_over_budget_nothing_is_stored_or_sent(
    catalog: Sandbox, configure: Callable[..., None], editor: Any, generated: Collection
) -> None:
    configure(USER_DAILY_BUDGET=Decimal("0.004"))  # one flux-schnell image costs 0.005
    with pytest.raises(BudgetExceededError):
        submit_to_library(editor, IMAGE_MODEL, {"generation_prompt": PROMPT}, collection=generated)
    assert_nothing_stored_or_sent(catalog)


def test_within_budget_the_cost_is_reserved(
    catalog: Sandbox, configure: Callable[..., None], editor: Any, generated: Collection
) -> None:
    configure(USER_DAILY_BUDGET=Decimal("0.010"))
    submission = submit_to_library(editor, IMAGE_MODEL, {"generation_prompt": PROMPT})
    assert submission.generation.cost_reserved == Decimal("0.005")
    entry = ModelLogEntry.objects.get(action=GENERATE_ACTION)
    assert entry.data["cost_reserved"] == "0.005"


@pytest.mark.parametrize(
    ("fields", "options", "field"),
    [
        ({"generation_prompt": PROMPT, "generation_ratio": "7:3"}, {}, "generation_ratio"),
        ({"generation_prompt": "   "}, {}, "generation_prompt"),
        ({"generation_prompt": PROMPT}, {"title": "t" * 256}, "title"),
        ({"generation_prompt": PROMPT}, {"description": "d" * 256}, "description"),
        ({"generation_prompt": PROMPT}, {"tags": ["x" * 101]}, "tags"),
    ],
)
def test_a_bad_request_is_a_validation_error(
    catalog: Sandbox,
    editor: Any,
    fields: dict[str, Any],
    options: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(ValidationError) as raised:
        submit_to_library(editor, IMAGE_MODEL, fields, **options)
    assert field in raised.value.message_dict
    assert_nothing_stored_or_sent(catalog)


def test_the_same_idempotency_key_submits_once(
    catalog: Sandbox, editor: Any, generated: Collection
) -> None:
    first = submit_to_library(
        editor, IMAGE_MODEL, {"generation_prompt": PROMPT}, idempotency_key="chooser:1:abc"
    )
    again = submit_to_library(
        editor, IMAGE_MODEL, {"generation_prompt": PROMPT}, idempotency_key="chooser:1:abc"
    )
    assert (first.created, again.created) == (True, False)
    assert again.generation.pk == first.generation.pk
    assert LibraryTarget.objects.count() == 1
    assert ModelLogEntry.objects.filter(action=GENERATE_ACTION).count() == 1
    assert remote_count(catalog) == 1
