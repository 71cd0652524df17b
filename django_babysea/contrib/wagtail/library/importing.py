"""Import stored outputs into Wagtail's image library (videos into wagtailmedia's).

The same bytes are never imported twice: an output already imported returns its item; an image
with the same ``file_hash`` (SHA-1, as Wagtail computes it) is linked instead of creating
another, whoever uploaded it. A new object and its :class:`LibraryItem` are inserted in one
transaction, so concurrent imports of one output leave one item and one object: the loser's
insert meets the unique constraint, its row rolls back and its saved files are deleted.

These functions check no permission: callers decide who may import (see :mod:`..permissions`).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model
from wagtail.images import get_image_model
from wagtail.log_actions import log
from wagtail.models import Collection
from wagtail.utils.file import hash_filelike

from django_babysea.contrib.wagtail.models import LibraryItem, LibraryTarget
from django_babysea.models import Generation, GenerationOutput, OutputState

from .items import (
    ItemSpec,
    NotImportableError,
    create_image,
    create_media,
    delete_files,
    library_model_for,
    opened,
)
from .submitting import (
    MAX_ALT_TEXT,
    MAX_TITLE,
    alt_text_from_prompt,
    clean_tags,
    title_from_prompt,
)

__all__ = ["IMPORT_ACTION", "NotImportableError", "import_generation", "import_output"]

logger = logging.getLogger("django_babysea.wagtail")

#: The audit-log action of an output imported into a library.
IMPORT_ACTION: Final = "babysea_wagtail.import"


def _live_item(output: GenerationOutput, content_type: ContentType) -> LibraryItem | None:
    """The output's item of this model, unless its object was deleted from the library since
    (then the stale link is dropped, and importing again makes a new object)."""
    item = LibraryItem.objects.filter(output=output, content_type=content_type).first()
    if item is None:
        return None
    model = content_type.model_class()
    if model is not None and model._default_manager.filter(pk=item.object_id).exists():
        return item
    item.delete()
    return None


def _target(generation: Generation) -> LibraryTarget | None:
    return LibraryTarget.objects.filter(generation=generation).first()


def _spec(
    output: GenerationOutput,
    target: LibraryTarget | None,
    *,
    user: Any,
    collection: Collection | None,
    title: str | None,
    description: str | None,
    tags: list[str] | None,
) -> ItemSpec:
    """What the new object gets: the explicit arguments, else the target's, else defaults
    drafted from the prompt (and the root collection)."""
    prompt = output.generation.prompt
    title = title or (target.title if target else "") or title_from_prompt(prompt)
    siblings = output.generation.outputs.count()
    if siblings > 1:  # one title per output of a generation of several
        suffix = f" ({output.index + 1})"
        title = title[: MAX_TITLE - len(suffix)] + suffix
    if description is None:
        description = (target.description if target else "") or alt_text_from_prompt(prompt)
    chosen = collection or (target.collection if target else None)
    if chosen is None:
        chosen = Collection.get_first_root_node()
    return ItemSpec(
        title=title[:MAX_TITLE],
        description=description[:MAX_ALT_TEXT],
        collection=chosen,
        tags=clean_tags(tags) if tags is not None else list(target.tags if target else []),
        user=user if user is not None else (target.requested_by if target else None),
    )


def _file_hash(output: GenerationOutput) -> str:
    with opened(output.storage, output.name) as handle:
        digest: str = hash_filelike(handle)
    return digest


def _duplicate(model: type[Model], content_type: ContentType, file_hash: str) -> Model | None:
    """An object of ``model`` already holding these bytes: an image with this ``file_hash``
    (uploaded by anyone), or a media item imported from identical bytes."""
    if model is get_image_model():
        image: Model | None = (
            model._default_manager.filter(file_hash=file_hash).order_by("pk").first()
        )
        return image
    for item in LibraryItem.objects.filter(content_type=content_type, file_hash=file_hash):
        found = model._default_manager.filter(pk=item.object_id).first()
        if found is not None:
            return found
    return None


def import_output(
    output: GenerationOutput,
    *,
    user: Any = None,
    collection: Collection | None = None,
    title: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
) -> LibraryItem:
    """The library item of ``output``, importing it when it has none yet.

    Explicit arguments win over the generation's :class:`LibraryTarget`, which wins over
    defaults drafted from the prompt (title, alt text) and the root collection. Raises
    :class:`NotImportableError` for an output that is not stored, or a video without
    wagtailmedia installed.
    """
    model = library_model_for(output)
    content_type = ContentType.objects.get_for_model(model)
    existing = _live_item(output, content_type)
    if existing is not None:
        return existing
    file_hash = _file_hash(output)
    spec = _spec(
        output,
        _target(output.generation),
        user=user,
        collection=collection,
        title=title,
        description=description,
        tags=tags,
    )
    linked = _duplicate(model, content_type, file_hash)
    created: Model | None = None
    try:
        # The object and its item commit together: nobody links to an object whose item
        # then loses the race, and a lost race leaves no row behind.
        with transaction.atomic():
            if linked is None:
                is_image = model is get_image_model()
                created = (
                    create_image(output, spec, file_hash)
                    if is_image
                    else create_media(output, spec)
                )
            obj = linked or created
            assert obj is not None
            item = LibraryItem.objects.create(
                output=output,
                generation=output.generation,
                content_type=content_type,
                object_id=str(obj.pk),
                file_hash=file_hash,
                imported_by=spec.user,
            )
            _log_import(output, item, obj, spec.user, linked=linked is not None)
    except IntegrityError:
        # A concurrent import of this output committed first: its item stands, ours is gone.
        logger.info("Output %s was imported concurrently; keeping that import.", output.pk)
        if created is not None:
            delete_files(created)
        winner = LibraryItem.objects.filter(output=output, content_type=content_type).first()
        if winner is None:
            raise
        return winner
    return item


def _log_import(
    output: GenerationOutput, item: LibraryItem, obj: Model, user: Any, *, linked: bool
) -> None:
    data = {
        "output": output.index,
        "model": obj._meta.label_lower,
        "object_id": item.object_id,
        "title": str(obj),
        "linked": linked,
    }
    log(output.generation, IMPORT_ACTION, user=user, data=data)
    if not linked:
        log(obj, "wagtail.create", user=user)


def import_generation(
    generation: Generation,
    *,
    user: Any = None,
    collection: Collection | None = None,
    title: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
) -> list[LibraryItem]:
    """:func:`import_output` of every stored output of ``generation``, in index order.

    Outputs that cannot be imported (a video without wagtailmedia) are skipped and the reason
    logged; outputs not stored yet are left for the ``outputs_stored`` receiver.
    """
    items: list[LibraryItem] = []
    stored = generation.outputs.filter(state=OutputState.STORED).exclude(name="")
    for output in stored.select_related("generation").order_by("index"):
        try:
            items.append(
                import_output(
                    output,
                    user=user,
                    collection=collection,
                    title=title,
                    description=description,
                    tags=tags,
                )
            )
        except NotImportableError as exc:
            logger.warning(
                "Output %d of generation %s was not imported (%s): %s",
                output.index,
                generation.pk,
                exc.reason,
                exc,
            )
    return items
