"""The "Create variants" bulk action of the image library: one generation per selected image,
the image given to BabySea (the sandbox) as the input file, the outputs going back into the
library."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from django.core.files.images import ImageFile
from PIL import Image as PillowImage
from wagtail.images import get_image_model
from wagtail.models import Collection

from django_babysea.contrib.wagtail.models import LibraryTarget
from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox

from .conftest import REFINE_MODEL, client_for, make_user, messages_of

pytestmark = pytest.mark.django_db(transaction=True)

ACTION = "/cms/bulk/wagtailimages/image/babysea_create_variants/"


def upload(title: str, collection: Collection, fmt: str = "PNG") -> Any:
    data = io.BytesIO()
    PillowImage.new("RGB", (64, 48), "teal").save(data, fmt)
    extension = {"PNG": "png", "GIF": "gif"}[fmt]
    return get_image_model().objects.create(
        title=title,
        file=ImageFile(data, name=f"{title.lower()}.{extension}"),
        collection=collection,
    )


def test_the_action_is_offered_in_the_image_library(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    upload("Harbour", generated)
    html = client_for(editor).get("/cms/images/").content.decode()
    assert "babysea_create_variants" in html
    assert "Create variants" in html


def test_one_generation_per_image_with_the_image_as_input_file(
    sandbox: Sandbox, editor: Any, generated: Collection
) -> None:
    harbour = upload("Harbour", generated)
    dunes = upload("Dunes", generated, "GIF")  # not an input format: sent as a PNG rendition
    query = f"?next=/cms/images/&id={harbour.pk}&id={dunes.pk}"
    client = client_for(editor)
    confirm = client.get(ACTION + query, secure=True)
    assert confirm.status_code == 200
    assert "Harbour" in confirm.content.decode()
    assert REFINE_MODEL in confirm.content.decode()

    answer = client.post(
        ACTION + query,
        {
            "token": str(uuid.uuid4()),
            "model": REFINE_MODEL,
            "prompt": "The same place at dusk",
            "collection": "",
        },
        secure=True,
    )

    assert answer.status_code == 302
    assert answer["Location"] == "/cms/images/"
    assert messages_of(answer) == [
        ("success", "2 variants are being generated; they go into the library when done.")
    ]
    generations = {g.request["generation_input_file"][0]: g for g in Generation.objects.all()}
    assert len(generations) == 2
    harbour_url = f"https://testserver{harbour.file.url}"
    assert harbour_url in generations
    (dunes_url,) = set(generations) - {harbour_url}
    assert dunes_url.startswith("https://testserver/media/images/")
    assert dunes_url.endswith(".png")
    for generation in generations.values():
        assert generation.generation_id is not None  # the sandbox accepted it
        remote = sandbox.generation(str(generation.generation_id))
        assert remote["generation_input_file"] == generation.request["generation_input_file"]
        target = LibraryTarget.objects.get(generation=generation)
        assert target.collection == generated  # each image's own collection
    assert (
        LibraryTarget.objects.get(generation=generations[harbour_url]).title == "Harbour (variant)"
    )


def test_refused_to_someone_who_may_not_generate(sandbox: Sandbox, generated: Collection) -> None:
    image = upload("Harbour", generated)
    # May change images here (so the bulk menu is theirs) but add them nowhere: no generating.
    chooser = make_user("chooser")
    from django.contrib.auth.models import Group

    from .conftest import grant_images

    group = Group.objects.create(name="choosers")
    grant_images(group, generated, "choose_image", "change_image")
    chooser.groups.add(group)

    answer = client_for(chooser).post(
        f"{ACTION}?next=/cms/images/&id={image.pk}",
        {"token": str(uuid.uuid4()), "model": REFINE_MODEL, "prompt": "At dusk"},
        secure=True,
    )

    assert answer.status_code == 302
    assert messages_of(answer) == [("error", "You may not generate images.")]
    assert not Generation.objects.exists()


def test_each_refusal_is_reported_and_the_others_go_on(
    sandbox: Sandbox, editor: Any, generated: Collection, configure: Any
) -> None:
    first, second = upload("Harbour", generated), upload("Dunes", generated)
    configure(USER_DAILY_BUDGET="0.060")  # one flux-1.1-pro image (0.052), not two

    answer = client_for(editor).post(
        f"{ACTION}?next=/cms/images/&id={first.pk}&id={second.pk}",
        {"token": str(uuid.uuid4()), "model": REFINE_MODEL, "prompt": "At dusk"},
        secure=True,
    )

    levels = [level for level, _text in messages_of(answer)]
    assert levels == ["success", "error"]
    assert "Daily budget exceeded" in messages_of(answer)[1][1]
    assert Generation.objects.count() == 1


def test_a_bad_form_is_shown_again(sandbox: Sandbox, editor: Any, generated: Collection) -> None:
    image = upload("Harbour", generated)
    answer = client_for(editor).post(
        f"{ACTION}?next=/cms/images/&id={image.pk}",
        {"token": str(uuid.uuid4()), "model": "bfl/flux-schnell", "prompt": ""},
        secure=True,
    )
    assert answer.status_code == 200
    assert "Select a valid choice" in answer.content.decode()
    assert not Generation.objects.exists()
