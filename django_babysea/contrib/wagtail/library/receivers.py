"""Imports the stored outputs of library generations.

The import runs where the copy ran: ``outputs_stored`` is sent after the copy job commits, on
a worker or after the response (inline), never in the editor's request that submitted the
generation. A target created for a generation whose outputs are stored already (an import
asked for later) is imported once that target commits. Importing twice is harmless.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.images import get_image_model

from django_babysea.contrib.wagtail.models import LibraryItem, LibraryTarget
from django_babysea.models import Generation, OutputState
from django_babysea.signals import outputs_stored

from .importing import import_generation
from .items import media_library_installed

logger = logging.getLogger("django_babysea.wagtail")


@receiver(outputs_stored, dispatch_uid="babysea_wagtail.import_stored_outputs")
def import_stored_outputs(sender: Any, *, generation: Generation, **kwargs: Any) -> None:
    target = LibraryTarget.objects.filter(generation=generation).first()
    if target is not None:
        import_generation(generation)


def _import_if_stored(generation_pk: Any) -> None:
    generation = Generation.objects.filter(pk=generation_pk).first()
    if generation is None:
        return
    states = set(generation.outputs.values_list("state", flat=True))
    if states != {OutputState.STORED}:
        return  # none yet, or some still copying: outputs_stored will come
    try:
        import_generation(generation)
    except Exception:  # the target stands; importing again (a command, the area) retries
        logger.exception("Importing the outputs of generation %s failed.", generation_pk)


@receiver(post_save, sender=LibraryTarget, dispatch_uid="babysea_wagtail.target_created")
def import_on_new_target(sender: Any, *, instance: LibraryTarget, created: bool, **kw: Any) -> None:
    if created:
        generation_pk = instance.generation_id
        transaction.on_commit(lambda: _import_if_stored(generation_pk))


def forget_deleted_object(sender: type[Model], *, instance: Model, **kwargs: Any) -> None:
    """An image (or media item) deleted from the library is no longer an output's import: its
    links go, so lists of a generation's images never show a missing one."""
    content_type = ContentType.objects.get_for_model(sender)
    LibraryItem.objects.filter(content_type=content_type, object_id=str(instance.pk)).delete()


def _library_models() -> list[type[Model]]:
    models: list[type[Model]] = [get_image_model()]
    if media_library_installed():
        from wagtailmedia import get_media_model

        models.append(get_media_model())
    return models


for _model in _library_models():
    post_delete.connect(
        forget_deleted_object,
        sender=_model,
        dispatch_uid=f"babysea_wagtail.forget_deleted.{_model._meta.label_lower}",
    )
