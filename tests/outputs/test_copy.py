"""Copying real sandbox outputs into a file-system storage: bytes, names, idempotency, retries,
expiry and deletion."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import (
    copy_output,
    copy_pending_outputs,
    delete_generation,
    refresh_generation,
)
from django_babysea.services.renditions import rendition_names
from django_babysea.signals import outputs_stored

from .conftest import VIDEO_MODEL, served, succeed

pytestmark = pytest.mark.django_db(transaction=True)

FILES = "/files/*"


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def stored_signals() -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    outputs_stored.connect(receiver)
    yield calls
    outputs_stored.disconnect(receiver)


def test_image_and_video_are_stored_byte_for_byte(
    sandbox: Sandbox, media: Path, stored_signals: list[dict[str, Any]]
) -> None:
    image = succeed(sandbox, generation_output_format="png")
    video = succeed(sandbox, VIDEO_MODEL, generation_duration=5)
    for generation, ext, content_type in ((image, "png", "image/png"), (video, "mp4", "video/mp4")):
        output = generation.outputs.get()
        assert output.state == OutputState.STORED, output.error
        original = served(output.source_url)
        copy = (media / output.name).read_bytes()
        assert copy == original
        assert output.sha256 == hashlib.sha256(original).hexdigest()
        assert output.size == len(original)
        assert output.content_type == content_type
        assert output.name == (
            f"babysea/{generation.created_at:%Y/%m}/{generation.generation_id}/0.{ext}"
        )
        assert output.url == f"/media/{output.name}"
        assert output.storage == "default"
        assert output.attempts == 1
        assert output.remote_expires_at == generation.completed_at + timedelta(hours=1)
    assert [call["generation"].pk for call in stored_signals] == [image.pk, video.pk]
    assert [o.state for o in stored_signals[0]["outputs"]] == [OutputState.STORED]


def test_extension_and_type_come_from_the_bytes(
    sandbox: Sandbox, configure: Callable[..., None], media: Path
) -> None:
    # A JPEG served as "image/png" at a URL ending in .jpg: the bytes decide.
    sandbox.inject("output_content_type", content_type="image/png", path=FILES)
    generation = succeed(sandbox, generation_output_format="jpg")
    output = generation.outputs.get()
    assert output.state == OutputState.STORED, output.error
    assert (output.content_type, Path(output.name).suffix) == ("image/jpeg", ".jpg")
    assert (media / output.name).read_bytes()[:3] == b"\xff\xd8\xff"


def test_upload_to_template_and_storage_alias(
    sandbox: Sandbox, configure: Callable[..., None], media: Path
) -> None:
    configure(UPLOAD_TO="generated/{kind}/{model}/{generation_id}-{index:02d}.{ext}")
    generation = succeed(sandbox)
    output = generation.outputs.get()
    assert output.name == f"generated/image/bfl-flux-schnell/{generation.generation_id}-00.png"
    assert (media / output.name).is_file()


def test_copying_twice_keeps_one_file(sandbox: Sandbox, media: Path) -> None:
    generation = succeed(sandbox)
    output = generation.outputs.get()
    first = (media / output.name).read_bytes()

    again = copy_output(output.pk)
    assert (again.state, again.attempts) == (OutputState.STORED, 1)
    # A crash after the file was saved but before the row said so: the next attempt replaces
    # the leftover instead of storing a second file beside it.
    GenerationOutput.objects.filter(pk=output.pk).update(state=OutputState.FAILED, name="")
    redone = copy_output(output.pk)
    assert (redone.state, redone.attempts, redone.name) == (OutputState.STORED, 2, output.name)
    # One original (and one file per rendition, remade under the same names).
    assert files_under(media) == sorted(
        media / name for name in [redone.name, *rendition_names(redone)]
    )
    assert len(rendition_names(redone)) == 2
    assert (media / output.name).read_bytes() == first


def test_an_interrupted_copy_leaves_nothing_and_is_retried(
    sandbox: Sandbox, configure: Callable[..., None], media: Path, tmp_path: Path, settings: Any
) -> None:
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    sandbox.inject("output_truncated", path=FILES)
    generation = succeed(sandbox, VIDEO_MODEL, generation_duration=5)
    output = generation.outputs.get()
    assert (output.state, output.error_reason) == (OutputState.FAILED, "interrupted")
    assert output.error
    assert files_under(media) == []
    assert files_under(tmp_path / "tmp") == []

    assert copy_pending_outputs() == {"stored": 1, "failed": 0, "expired": 0, "skipped": 0}
    output.refresh_from_db()
    assert (output.state, output.attempts, output.error, output.error_reason) == (
        OutputState.STORED,
        2,
        "",
        "",
    )
    assert (media / output.name).read_bytes() == served(output.source_url)
    assert files_under(tmp_path / "tmp") == []


def test_the_sweep_copies_the_soonest_to_expire_first(sandbox: Sandbox) -> None:
    sandbox.inject("output_status", status=503, path=FILES, times=2)
    later, sooner = succeed(sandbox), succeed(sandbox)
    now = timezone.now()
    GenerationOutput.objects.filter(generation=later).update(
        remote_expires_at=now + timedelta(hours=5)
    )
    GenerationOutput.objects.filter(generation=sooner).update(
        remote_expires_at=now + timedelta(minutes=5)
    )
    assert copy_pending_outputs(limit=1)["stored"] == 1
    assert sooner.outputs.get().state == OutputState.STORED
    assert later.outputs.get().state == OutputState.FAILED
    assert copy_pending_outputs()["stored"] == 1
    assert later.outputs.get().state == OutputState.STORED


def test_the_sweep_records_outputs_it_never_saw(sandbox: Sandbox, media: Path) -> None:
    generation = succeed(sandbox)
    GenerationOutput.objects.filter(generation=generation).delete()
    for path in files_under(media):
        path.unlink()
    assert copy_pending_outputs()["stored"] == 1
    output = generation.outputs.get()
    assert (media / output.name).is_file()


def test_a_copy_in_progress_is_not_doubled_but_a_stale_one_is_taken_over(
    sandbox: Sandbox,
) -> None:
    sandbox.inject("output_status", status=503, path=FILES)
    generation = succeed(sandbox)
    output = generation.outputs.get()
    GenerationOutput.objects.filter(pk=output.pk).update(
        state=OutputState.COPYING, copy_started_at=timezone.now()
    )
    assert copy_output(output.pk).state == OutputState.COPYING
    assert copy_pending_outputs()["stored"] == 0
    GenerationOutput.objects.filter(pk=output.pk).update(
        copy_started_at=timezone.now() - timedelta(hours=2)
    )
    assert copy_pending_outputs()["stored"] == 1


def test_a_file_gone_before_its_expiry_is_retried_later(sandbox: Sandbox) -> None:
    sandbox.inject("output_status", status=404, path=FILES)
    output = succeed(sandbox).outputs.get()
    assert (output.state, output.error_reason) == (OutputState.FAILED, "gone")


def test_a_file_gone_after_its_expiry_is_marked_expired(sandbox: Sandbox) -> None:
    sandbox.inject("output_status", status=503, path=FILES)
    output = succeed(sandbox).outputs.get()
    GenerationOutput.objects.filter(pk=output.pk).update(
        remote_expires_at=timezone.now() - timedelta(minutes=1)
    )
    sandbox.inject("output_status", status=404, path=FILES)
    assert copy_pending_outputs() == {"stored": 0, "failed": 0, "expired": 1, "skipped": 0}
    output.refresh_from_db()
    assert output.state == OutputState.EXPIRED
    assert "before it was copied" in output.error
    assert "404" in output.error


@pytest.mark.babysea_sandbox(plan="free")
def test_outputs_removed_by_retention_before_the_copy_are_expired(
    sandbox: Sandbox, media: Path
) -> None:
    sandbox.inject("output_status", status=503, path=FILES)
    generation = succeed(sandbox)
    assert generation.outputs.get().state == OutputState.FAILED
    sandbox.travel(2 * 3600)  # the free plan keeps output files for one hour
    sandbox.tick()
    generation = refresh_generation(generation)
    assert generation.removed
    output = generation.outputs.get()
    assert output.state == OutputState.EXPIRED
    assert output.error.startswith("BabySea removed the file")
    assert copy_pending_outputs() == {"stored": 0, "failed": 0, "expired": 0, "skipped": 0}
    assert files_under(media) == []


def test_delete_generation_deletes_the_local_copies(sandbox: Sandbox, media: Path) -> None:
    generation = succeed(sandbox)
    output = generation.outputs.get()
    assert (media / output.name).is_file()
    delete_generation(generation)
    output.refresh_from_db()
    assert output.state == OutputState.DELETED
    assert output.url is None
    assert files_under(media) == []


def test_keep_local_copies_keeps_them(
    sandbox: Sandbox, configure: Callable[..., None], media: Path
) -> None:
    configure(KEEP_LOCAL_COPIES=True)
    generation = succeed(sandbox)
    delete_generation(generation)
    output = generation.outputs.get()
    assert output.state == OutputState.STORED
    assert (media / output.name).is_file()
    assert Generation.objects.get(pk=generation.pk).removed


def test_an_uncopied_output_of_a_deleted_generation_expires(sandbox: Sandbox) -> None:
    sandbox.inject("output_status", status=503, path=FILES)
    generation = succeed(sandbox)
    delete_generation(generation)
    output = generation.outputs.get()
    assert output.state == OutputState.EXPIRED
