"""Renditions of a stored output: smaller widths in modern formats, and a video's poster frame.

A foundation under the services, like :mod:`django_babysea.downloads`: it knows bytes, Pillow
and ffmpeg, nothing of the models or the storages.

- :mod:`.images`: resized encodes of a still image (Pillow), with a decompression-bomb guard.
- :mod:`.posters`: one frame of a video as a JPEG (ffmpeg, with a timeout).

Both are optional: without Pillow there are no image renditions, without an ffmpeg binary no
posters, and the original file is never touched.
"""

from .images import (
    CONTENT_TYPES,
    EXTENSIONS,
    Encoded,
    ImageSpec,
    RenditionError,
    pillow_available,
    render_image,
    writable_formats,
)
from .posters import find_ffmpeg, render_poster

__all__ = [
    "CONTENT_TYPES",
    "EXTENSIONS",
    "Encoded",
    "ImageSpec",
    "RenditionError",
    "find_ffmpeg",
    "pillow_available",
    "render_image",
    "render_poster",
    "writable_formats",
]
