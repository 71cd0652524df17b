"""A copy that fails for any reason (a storage backend error, an OSError, a bug) is recorded on
its row, and the sweep goes on with the next output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.test import override_settings

from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import copy_output, copy_pending_outputs

from .conftest import succeed

pytestmark = pytest.mark.django_db(transaction=True)

FILES = "/files/*"
#: What a storage backend might put in its exception text; it must never reach the row.
SECRET = "AKIAEXAMPLE:s3cr3t-Signing-Key"


class RefusingStorage(FileSystemStorage):
    """A file-system storage that refuses the files whose name contains ``refused``."""

    refused: ClassVar[str | None] = None

    def _save(self, name: str, content: File) -> str:  # type: ignore[type-arg]
        if self.refused is not None and self.refused in name:
            raise RuntimeError(f"upload refused by https://{SECRET}@bucket.example/{name}")
        saved: str = super()._save(name, content)  # type: ignore[misc]
        return saved


@pytest.fixture
def refusing(media: Path, configure: Any) -> Iterator[type[RefusingStorage]]:
    storages = {
        "default": {
            "BACKEND": f"{__name__}.RefusingStorage",
            "OPTIONS": {"location": str(media), "base_url": "/media/"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield RefusingStorage
    RefusingStorage.refused = None


def uncopied(sandbox: Sandbox, count: int) -> list[Generation]:
    """``count`` succeeded generations whose first copy was refused by the source (HTTP 503),
    so the sweep has them all to do."""
    sandbox.inject("output_status", status=503, path=FILES, times=count)
    generations = [succeed(sandbox) for _ in range(count)]
    assert {g.outputs.get().state for g in generations} == {OutputState.FAILED}
    return generations


def test_a_storage_error_fails_one_row_and_the_sweep_goes_on(
    sandbox: Sandbox, refusing: type[RefusingStorage], media: Path
) -> None:
    first, bad, last = uncopied(sandbox, 3)
    refusing.refused = str(bad.generation_id)
    assert copy_pending_outputs() == {"stored": 2, "failed": 1, "expired": 0, "skipped": 0}
    for good in (first, last):
        output = good.outputs.get()
        assert output.state == OutputState.STORED, output.error
        assert (media / output.name).is_file()
    failed = bad.outputs.get()
    assert (failed.state, failed.error_reason) == (OutputState.FAILED, "storage_error")
    assert failed.error == "Saving to the storage failed (RuntimeError)."
    assert SECRET not in failed.error
    assert (failed.name, failed.url) == ("", None)

    # Once the storage accepts it again, the next sweep stores it.
    refusing.refused = None
    assert copy_pending_outputs()["stored"] == 1
    assert bad.outputs.get().state == OutputState.STORED


def test_an_unexpected_os_error_is_recorded_and_the_sweep_goes_on(
    sandbox: Sandbox, tmp_path: Path, settings: Any
) -> None:
    generations = uncopied(sandbox, 3)
    # A temporary directory that does not exist: every transfer fails before it starts, with
    # an OSError no download check anticipates.
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "missing")
    assert copy_pending_outputs() == {"stored": 0, "failed": 3, "expired": 0, "skipped": 0}
    for generation in generations:
        output = generation.outputs.get()
        assert (output.state, output.error_reason, output.attempts) == (
            OutputState.FAILED,
            "internal",
            2,
        )
        assert output.error == (
            "Copying failed unexpectedly (FileNotFoundError: No such file or directory)."
        )
        assert str(tmp_path) not in output.error

    settings.FILE_UPLOAD_TEMP_DIR = None
    assert copy_pending_outputs()["stored"] == 3


def test_copy_output_records_an_unexpected_error_instead_of_raising(
    sandbox: Sandbox, tmp_path: Path, settings: Any
) -> None:
    (generation,) = uncopied(sandbox, 1)
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "missing")
    output = copy_output(generation.outputs.get().pk)
    assert (output.state, output.error_reason) == (OutputState.FAILED, "internal")
    # Not left claimed ("copying") until the lease runs out: the next sweep may retry it.
    assert GenerationOutput.objects.get(pk=output.pk).state == OutputState.FAILED


class OverlongNameStorage(FileSystemStorage):
    """A backend with a bug: it reports a name longer than any the row can hold."""

    def _save(self, name: str, content: File) -> str:  # type: ignore[type-arg]
        saved: str = super()._save(name, content)  # type: ignore[misc]
        return saved + "?" + "x" * 1100


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="needs PostgreSQL (set BABYSEA_TEST_DATABASE_URL)"
)
def test_a_copy_that_cannot_be_recorded_is_failed_not_left_claimed(
    sandbox: Sandbox, media: Path, configure: Any
) -> None:
    first, second = uncopied(sandbox, 2)
    storages = {
        "default": {
            "BACKEND": f"{__name__}.OverlongNameStorage",
            "OPTIONS": {"location": str(media), "base_url": "/media/"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        assert copy_pending_outputs() == {"stored": 0, "failed": 2, "expired": 0, "skipped": 0}
    for generation in (first, second):
        output = generation.outputs.get()
        assert (output.state, output.error_reason) == (OutputState.FAILED, "internal")
        assert output.error == "Copying failed unexpectedly (DataError)."
