"""Download into a temporary file, then hand the finished file to a Django storage.

Nothing appears under the final name until the whole file has arrived and passed every check:
the body streams into a temporary file (in ``FILE_UPLOAD_TEMP_DIR``, like Django's own
uploads), and only then is it saved. ``FileSystemStorage`` moves such a file into place (a
rename when both are on one file system); other storages read it from disk in chunks (S3
uploads it in parts, which become visible together when the upload completes).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage

from .errors import DownloadError, Reason, describe
from .fetch import Download, Limits, fetch
from .policy import SourcePolicy

__all__ = ["StoredFile", "copy_to_storage"]


@dataclass(frozen=True)
class StoredFile:
    name: str
    download: Download


class _DownloadedFile(File):  # type: ignore[type-arg]
    """A finished download on local disk. ``temporary_file_path`` lets FileSystemStorage move
    it instead of copying; ``content_type`` is what S3 and others store as the file's type."""

    def __init__(self, file: Any, name: str, path: str, content_type: str, size: int) -> None:
        super().__init__(file, name)
        self._path = path
        self.content_type = content_type
        self._size = size

    def temporary_file_path(self) -> str:
        return self._path


def copy_to_storage(
    url: str,
    storage: Storage,
    name_for: Any,
    *,
    policy: SourcePolicy,
    limits: Limits,
    client: httpx.Client,
) -> StoredFile:
    """Download ``url`` and save it in ``storage`` as ``name_for(ext)``.

    ``name_for`` receives the extension of the format found in the bytes. A file already at
    that name (left by an attempt that stored it but could not record it) is replaced, so
    copying twice keeps one file.
    """
    fd, path = tempfile.mkstemp(
        prefix="babysea-", suffix=".part", dir=settings.FILE_UPLOAD_TEMP_DIR or None
    )
    try:
        with os.fdopen(fd, "w+b") as dest:
            download = fetch(url, dest, policy=policy, limits=limits, client=client)
            dest.flush()
            name = name_for(download.format.ext)
            try:
                saved = _save(storage, name, dest, path, download)
            except Exception as exc:
                raise DownloadError(
                    Reason.STORAGE_ERROR,
                    f"Saving to the storage failed ({describe(exc)}).",
                ) from exc
        return StoredFile(name=saved, download=download)
    finally:
        # Gone already when FileSystemStorage moved it into place.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _save(storage: Storage, name: str, dest: Any, path: str, download: Download) -> str:
    # A storage that overwrites (S3 by default) keeps the name and replaces the old file in
    # one step; only one that would pick another name needs the leftover removed first. This
    # also spares S3 a HEAD, which answers 403 without s3:ListBucket.
    if storage.get_available_name(name) != name:
        storage.delete(name)
    dest.seek(0)
    content = _DownloadedFile(dest, name, path, download.format.content_type, download.size)
    return storage.save(name, content)
