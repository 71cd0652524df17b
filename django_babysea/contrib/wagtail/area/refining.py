"""What a generation can be refined from and with: a stored image output, a model whose catalog
entry accepts input files, and a public https:// URL BabySea can download the image from."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.translation import gettext as _

from django_babysea.models import CatalogModel, Generation, GenerationOutput
from django_babysea.services import CatalogUnavailableError, load_catalog

__all__ = [
    "InputFileError",
    "image_input_url",
    "input_models",
    "public_url",
    "stored_images",
]

#: What BabySea accepts as an image input file (contract: JPEG, PNG or WebP).
INPUT_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/webp"})
INPUT_EXTENSIONS: Final = frozenset({"jpg", "jpeg", "png", "webp"})


class InputFileError(ValueError):
    """The image cannot be given to BabySea as an input file; the message says why."""


def stored_images(generation: Generation) -> list[GenerationOutput]:
    """The outputs of ``generation`` that can be an input file (prefetched outputs: no query)."""
    if generation.kind != "image":
        return []
    return [
        output
        for output in generation.outputs.all()
        if output.is_stored and (output.content_type or "image/png") in INPUT_TYPES
    ]


def input_models() -> list[CatalogModel]:
    """Image models of the catalog that accept input files, by name. The catalog is fetched
    again when stale (a remote call: never inside a transaction); while BabySea cannot be
    reached, the cached one; none when nothing was ever cached."""
    try:
        models = load_catalog().models
    except CatalogUnavailableError:
        return []
    accepted = [
        model
        for model in models
        if model.kind == "image" and (model.schema or {}).get("generation_input_file")
    ]
    return sorted(accepted, key=lambda model: model.model_identifier)


def public_url(request: HttpRequest, url: str) -> str:
    """``url`` (a storage URL, maybe relative to the site) as the absolute ``https://`` URL
    BabySea will download it from; :class:`InputFileError` when it cannot be one.

    Behind a TLS-terminating proxy, Django needs ``SECURE_PROXY_SSL_HEADER`` to know requests
    arrive over https; a storage on a CDN (S3 and the like) gives absolute URLs already.
    """
    absolute = request.build_absolute_uri(url)
    parts = urlsplit(absolute)
    if parts.scheme != "https" or not parts.hostname:
        raise InputFileError(
            _(
                "BabySea downloads input files from public https:// addresses, and this image "
                "is at %(url)s. Serve the site's media over https (or from a CDN) to use images "
                "as input files."
            )
            % {"url": absolute[:200]}
        )
    return absolute


def image_input_url(request: HttpRequest, image: Any) -> str:
    """The public URL of a Wagtail image in a format BabySea accepts: the original when it is
    a JPEG, PNG or WebP, else a PNG rendition of it at full size."""
    name = str(image.file.name)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in INPUT_EXTENSIONS:
        return public_url(request, str(image.file.url))
    return public_url(request, str(image.get_rendition("original|format-png").url))
