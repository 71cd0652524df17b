"""Importing stored outputs: never the same bytes twice, explicit arguments over the target,
only stored copies (real sandbox, real database, real storage)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.images import ImageFile
from django.core.files.storage import storages
from wagtail.images import get_image_model
from wagtail.models import Collection

from django_babysea.contrib.wagtail.library import (
    NotImportableError,
    generation_for_image,
    import_generation,
    import_output,
    submit_to_library,
)
from django_babysea.contrib.wagtail.models import LibraryItem, LibraryTarget
from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import submit_generation

from .conftest import IMAGE_MODEL, PROMPT, finish

pytestmark = pytest.mark.django_db(transaction=True)

Image = get_image_model()

#: The same model, prompt, seed and provider: BabySea (the sandbox) returns identical bytes.
SAME_BYTES = {
    "generation_prompt": PROMPT,
    "generation_seed": 42,
    "generation_provider_order": "bfl",
}


def stored_generation(sandbox: Sandbox, **fields: Any) -> Generation:
    """A generation made outside the library (no target), succeeded and stored."""
    generation = submit_generation(IMAGE_MODEL, **{"generation_prompt": PROMPT, **fields})
    generation = finish(sandbox, generation)
    assert generation.outputs.get().state == OutputState.STORED
    return generation


def test_the_same_output_is_imported_once(catalog: Sandbox, root: Collection) -> None:
    output = stored_generation(catalog).outputs.get()
    first = import_output(output)
    again = import_output(output)
    assert again.pk == first.pk
    assert import_generation(output.generation) == [first]
    assert Image.objects.count() == 1
    assert LibraryItem.objects.count() == 1
    image = Image.objects.get()
    assert image.collection == root  # no target, no collection given
    assert image.title == image.description == PROMPT


def test_two_outputs_with_the_same_bytes_make_one_image(catalog: Sandbox, root: Any) -> None:
    one = stored_generation(catalog, **SAME_BYTES).outputs.get()
    two = stored_generation(catalog, **SAME_BYTES).outputs.get()
    assert one.sha256 == two.sha256
    assert one.generation_id != two.generation_id
    first, second = import_output(one), import_output(two)
    assert Image.objects.count() == 1
    assert first.object_id == second.object_id
    assert (first.output, second.output) == (one, two)
    # The image points back to the generation it was first imported from.
    assert generation_for_image(Image.objects.get()) == one.generation


def test_an_image_uploaded_by_hand_with_the_same_bytes_is_linked(
    catalog: Sandbox, root: Collection
) -> None:
    output = stored_generation(catalog).outputs.get()
    with storages[output.storage].open(output.name, "rb") as handle:
        data = handle.read()
    # As Wagtail's upload form does it.
    uploaded = Image(title="Uploaded by hand", collection=root)
    uploaded.file = ImageFile(io.BytesIO(data), name="by-hand.png")
    uploaded._set_image_file_metadata()
    uploaded.save()
    item = import_output(output)
    assert item.object_id == str(uploaded.pk)
    assert Image.objects.count() == 1
    assert Image.objects.get().title == "Uploaded by hand"  # linked, not changed


def test_an_image_deleted_from_the_library_is_imported_again(catalog: Sandbox, root: Any) -> None:
    output = stored_generation(catalog).outputs.get()
    first = import_output(output)
    Image.objects.get(pk=first.object_id).delete()
    assert LibraryItem.objects.count() == 0  # the link went with the image
    second = import_output(output)
    assert second.object_id != first.object_id
    assert Image.objects.count() == 1
    assert LibraryItem.objects.count() == 1


def test_explicit_arguments_win_over_the_target(
    catalog: Sandbox, editor: Any, generated: Collection, elsewhere: Collection
) -> None:
    submission = submit_to_library(
        editor, IMAGE_MODEL, {"generation_prompt": PROMPT}, title="From the target", tags=["t"]
    )
    generation = submission.generation
    # The target's collection was deleted meanwhile (SET_NULL): the root takes its outputs.
    LibraryTarget.objects.filter(generation=generation).update(collection=None)
    generation = finish(catalog, generation)  # the receiver imports with the target's values
    image = Image.objects.get()
    assert (image.title, list(image.tags.names())) == ("From the target", ["t"])
    assert image.collection == Collection.get_first_root_node()  # target without a collection
    image.delete()
    item = import_output(
        generation.outputs.get(),
        collection=elsewhere,
        title="Explicit",
        description="Explicit alt text",
        tags=["x", "y"],
    )
    image = Image.objects.get(pk=item.object_id)
    assert (image.title, image.description, image.collection) == (
        "Explicit",
        "Explicit alt text",
        elsewhere,
    )
    assert sorted(image.tags.names()) == ["x", "y"]
    assert image.uploaded_by_user == editor  # from the target: explicit user not given


def test_only_stored_outputs_are_imported(catalog: Sandbox) -> None:
    generation = submit_generation(IMAGE_MODEL, generation_prompt=PROMPT)
    catalog.advance(str(generation.generation_id), to="succeeded")
    output = GenerationOutput.objects.create(
        generation=generation, index=0, source_url="https://example.com/0.png", storage="default"
    )
    with pytest.raises(NotImportableError) as raised:
        import_output(output)
    assert raised.value.reason == "not_stored"
    assert import_generation(generation) == []
    assert Image.objects.count() == 0


def test_a_target_added_after_the_outputs_were_stored_imports_them(
    catalog: Sandbox, editor: Any, generated: Collection
) -> None:
    generation = stored_generation(catalog)
    assert Image.objects.count() == 0  # no target: outputs_stored imported nothing
    LibraryTarget.objects.create(
        generation=generation,
        collection=generated,
        title="Added later",
        description="Alt text",
        tags=["later"],
        requested_by=editor,
    )
    # Imported once the target committed (autocommit here: at once).
    image = Image.objects.get()
    assert (image.title, image.collection, image.uploaded_by_user) == (
        "Added later",
        generated,
        editor,
    )
    assert list(image.tags.names()) == ["later"]
    assert generation_for_image(image) == generation
