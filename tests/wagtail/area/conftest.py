"""The Generations area's tests: the real sandbox as BabySea (generations move on only when a
test says so), a file-system storage of the test's own for outputs and Wagtail's images, the
catalog fetched, and people with different permissions:

* ``editor``: a Wagtail editor who may add images to the "Generated" collection, with no
  BabySea permission: generates through the library's rule and sees their own generations.
* ``manager``: the same, plus seeing everyone's generations and cancelling and deleting them.
* ``stranger``: may open Wagtail's admin and nothing else.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.test import Client
from wagtail.images import get_image_model
from wagtail.models import Collection, GroupCollectionPermission

from django_babysea.contrib.wagtail.library import submit_to_library
from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox
from django_babysea.services import refresh_catalog, refresh_generation
from django_babysea.services.dashboard import forget_remote_status
from tests.outputs.conftest import configure, media
from tests.wagtail.browser.conftest import page, screenshot

__all__ = ["configure", "media", "page", "screenshot"]

MODEL = "bfl/flux-schnell"
REFINE_MODEL = "bfl/flux-1.1-pro"
PROMPT = "A harbor seal pup asleep on a snowy ice floe, soft morning light"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(babysea_sandbox: Sandbox, configure: Callable[..., None]) -> Iterator[Sandbox]:
    """The sandbox with the catalog fetched; nothing moves on until :func:`finish`."""
    babysea_sandbox.auto_advance = False
    cache.clear()
    refresh_catalog()
    yield babysea_sandbox
    forget_remote_status()


@pytest.fixture
def root(transactional_db: None) -> Collection:
    found = Collection.get_first_root_node()
    return found if found is not None else Collection.add_root(name="Root")


@pytest.fixture
def generated(root: Collection) -> Collection:
    return root.add_child(name="Generated")


def grant_images(group: Group, collection: Collection, *codenames: str) -> None:
    content_type = ContentType.objects.get_for_model(get_image_model())
    for codename in codenames:
        GroupCollectionPermission.objects.create(
            group=group,
            collection=collection,
            permission=Permission.objects.get(content_type=content_type, codename=codename),
        )


def make_user(username: str, *babysea_perms: str, collection: Collection | None = None) -> Any:
    """A Wagtail admin user with the given ``django_babysea`` permissions, who may add, choose
    and change images in ``collection`` when one is given."""
    user = get_user_model().objects.create_user(username, password="pw")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="django_babysea", codename__in=babysea_perms
        )
    )
    if collection is not None:
        group, _ = Group.objects.get_or_create(name=f"{username} images")
        grant_images(group, collection, "add_image", "choose_image", "change_image")
        user.groups.add(group)
    return user


@pytest.fixture
def editor(generated: Collection) -> Any:
    return make_user("editor", collection=generated)


@pytest.fixture
def manager(generated: Collection) -> Any:
    return make_user(
        "manager",
        "view_generation",
        "cancel_generation",
        "delete_remote_generation",
        collection=generated,
    )


@pytest.fixture
def stranger(transactional_db: None) -> Any:
    return make_user("stranger")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def generate(user: Any, collection: Collection, prompt: str = PROMPT, **fields: Any) -> Generation:
    """A generation submitted the way an editor does in Wagtail (into the library)."""
    submission = submit_to_library(
        user,
        fields.pop("model", MODEL),
        {"generation_prompt": prompt, **fields},
        collection=collection,
    )
    return submission.generation


def finish(sandbox: Sandbox, generation: Generation, to: str = "succeeded") -> Generation:
    """Let ``generation`` reach ``to`` at the sandbox and learn of it (outputs copied inline
    after the commit, and imported into the library when it has a target)."""
    sandbox.advance(str(generation.generation_id), to=to)
    return refresh_generation(generation)


def messages_of(response: Any) -> list[tuple[str, str]]:
    """The messages of a response, as an editor reads them (Wagtail keeps them as HTML)."""
    from django.contrib.messages import get_messages

    return [
        (m.level_tag, html.unescape(str(m)).strip()) for m in get_messages(response.wsgi_request)
    ]
