"""Output files, served like BabySea's CDN: real bytes while retained, 404 once removed."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Final

from django_babysea.sandbox.faults.output_files import (
    apply_output_fault,
    early_output_response,
    take_output_fault,
)
from django_babysea.sandbox.http.envelopes import Request, Response, text_response
from django_babysea.sandbox.state.region import Region

__all__ = ["handle_file"]

logger = logging.getLogger("django_babysea.sandbox")

FILE_PATH: Final = re.compile(
    r"^/files/(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"/output-(?P<index>\d{1,3})\.(?P<ext>[a-z0-9]{2,5})$"
)


@dataclass(frozen=True)
class _Output:
    media_type: str
    prompt: str
    ext: str
    ratio: str
    seed: int
    label: str
    duration: int | None
    huge_size: int | None


def _find(region: Region, path: str) -> _Output | None:
    found = FILE_PATH.match(path)
    if found is None:
        return None
    index = int(found["index"])
    with region.store.lock:
        generation = region.store.generations.get(found["id"])
        if (
            generation is None
            or generation.status != "succeeded"
            or not generation.files_present
            or index >= generation.output_number
            or found["ext"] != generation.output_format
        ):
            return None
        return _Output(
            media_type=generation.model.media_type,
            prompt=generation.prompt,
            ext=generation.output_format,
            ratio=generation.ratio,
            seed=generation.media_seed + index,
            label=" · ".join(
                (generation.model.identifier, f"output {index + 1}", str(generation.provider_used))
            ),
            duration=generation.duration,
            huge_size=generation.huge_size,
        )


def _render(region: Region, output: _Output) -> bytes:
    if output.media_type == "video":
        return region.media.video(
            output.prompt,
            duration=output.duration or 5,
            ratio=output.ratio,
            seed=output.seed,
            label=output.label,
        )
    return region.media.image(
        output.prompt, fmt=output.ext, ratio=output.ratio, seed=output.seed, label=output.label
    )


def handle_file(region: Region, request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return text_response(403, "Forbidden")
    output = _find(region, request.path)
    fault = take_output_fault(region.faults, request, found=output is not None)
    early = early_output_response(fault, request) if fault is not None else None
    if early is not None:
        return early
    if output is None:
        response = text_response(404, "Not Found")
        response.head = request.method == "HEAD"
        return response
    from django_babysea.sandbox.media.render import CONTENT_TYPES, padded_video

    try:
        data = _render(region, output)
    except Exception:
        logger.exception("rendering %s failed", request.path)
        return text_response(500, "Internal Server Error")
    content_type = CONTENT_TYPES.get(output.ext, "application/octet-stream")
    headers = {"Cache-Control": "public, max-age=3600", "Accept-Ranges": "none"}
    if output.huge_size is not None and output.huge_size >= len(data) + 8:
        response = Response(
            200,
            content_type=content_type,
            headers=headers,
            stream=padded_video(data, output.huge_size),
            length=output.huge_size,
        )
    else:
        response = Response(200, data, content_type=content_type, headers=headers)
    response.head = request.method == "HEAD"
    return apply_output_fault(fault, response) if fault is not None else response
