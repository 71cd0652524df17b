"""Library tests: a real sandbox, a file-system storage of the test's own (outputs and Wagtail's
images both land there), the catalog fetched, and editors with collection permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from wagtail.models import Collection, GroupCollectionPermission

from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox
from django_babysea.services import refresh_catalog, refresh_generation
from tests.outputs.conftest import configure, media, sandbox

# Fixtures shared with tests/outputs (sandbox, storage); the browser's are in tests/wagtail.
__all__ = ["configure", "media", "sandbox"]

IMAGE_MODEL = "bfl/flux-schnell"
VIDEO_MODEL = "google/veo-2"
PROMPT = "A harbor seal pup asleep on a snowy ice floe, soft morning light"


@pytest.fixture
def root(db: None) -> Collection:
    """The root collection (transactional tests flush the one Wagtail's migration made)."""
    root = Collection.get_first_root_node()
    return root if root is not None else Collection.add_root(name="Root")


@pytest.fixture
def generated(root: Collection) -> Collection:
    """The collection editors generate into."""
    return root.add_child(name="Generated")


@pytest.fixture
def elsewhere(root: Collection) -> Collection:
    return root.add_child(name="Elsewhere")


@pytest.fixture
def catalog(sandbox: Sandbox) -> Sandbox:
    refresh_catalog()
    return sandbox


def grant(group: Group, collection: Collection, *codenames: str) -> None:
    # Wagtail keeps image permissions on wagtailimages.Image, whatever the image model.
    content_type = ContentType.objects.get_by_natural_key("wagtailimages", "image")
    for codename in codenames:
        permission = Permission.objects.get(content_type=content_type, codename=codename)
        GroupCollectionPermission.objects.create(
            group=group, collection=collection, permission=permission
        )


def make_editor(username: str, collection: Collection) -> Any:
    """A Wagtail editor (admin access) who may add and choose images in ``collection``."""
    group, _ = Group.objects.get_or_create(name=f"Editors of {collection.name}")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    grant(group, collection, "add_image", "choose_image", "change_image")
    user = get_user_model().objects.create_user(username, password="pw")
    user.groups.add(group)
    return user


@pytest.fixture
def editor(generated: Collection) -> Any:
    return make_editor("editor", generated)


@pytest.fixture
def outsider(elsewhere: Collection) -> Any:
    """May add images, but only in another collection than ``generated``."""
    return make_editor("outsider", elsewhere)


def finish(sandbox: Sandbox, generation: Generation) -> Generation:
    """Let ``generation`` succeed at the sandbox and learn of it: its outputs are recorded and
    copied right after commit (inline), and ``outputs_stored`` imports them."""
    sandbox.advance(str(generation.generation_id), to="succeeded")
    return refresh_generation(generation)
