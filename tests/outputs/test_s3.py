"""Output copies into S3 (django-storages) on a real S3-protocol server, from the real sandbox."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.files.storage import storages
from django.test import override_settings
from django.utils import timezone

from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import (
    copy_output,
    copy_pending_outputs,
    delete_generation,
    refresh_generation,
    submit_generation,
)
from django_babysea.services.renditions import rendition_names

from .s3 import ALIAS, S3Bucket, babysea_s3, s3_bucket, s3_endpoint, s3_sandbox, s3_storages

# Fixtures used by name below; importing them is what makes them visible to this module.
__all__ = ["s3_bucket", "s3_endpoint", "s3_sandbox"]

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE_MODEL = "bfl/flux-schnell"
VIDEO_MODEL = "google/veo-2"
PROMPT = "A harbor seal pup asleep on a snowy ice floe"
# Over boto3's 8 MiB multipart threshold, so the upload goes in parts.
LARGE = 20 * 1024**2


def succeed(sandbox: Sandbox, model: str = IMAGE_MODEL, **fields: Any) -> Generation:
    """Submit a generation and let it succeed at the sandbox; the refresh that learns of the
    success records the outputs and (without Celery) copies them right after its commit."""
    generation = submit_generation(model, generation_prompt=PROMPT, **fields)
    assert generation.generation_id is not None
    sandbox.advance(str(generation.generation_id), to="succeeded")
    done = refresh_generation(generation)
    assert done.status == "succeeded"
    return done


def succeed_video(sandbox: Sandbox) -> Generation:
    return succeed(sandbox, VIDEO_MODEL, generation_duration=5)


def served(url: str) -> bytes:
    """The bytes at ``url``, fetched directly."""
    response = httpx.get(url, timeout=30)
    response.raise_for_status()
    return response.content


def only_output(generation: Generation) -> GenerationOutput:
    outputs = list(generation.outputs.all())
    assert len(outputs) == 1
    return outputs[0]


def files_of(output: GenerationOutput) -> list[str]:
    """The original's key and its renditions' keys."""
    return sorted([output.name, *rendition_names(output)])


def prefix_of(generation: Generation) -> str:
    """The folder UPLOAD_TO (``babysea/%Y/%m/{generation_id}/{index}.{ext}``) gives the
    generation's files."""
    created = timezone.localtime(generation.created_at)
    return f"babysea/{created:%Y/%m}/{generation.generation_id}/"


def assert_stored_intact(bucket: S3Bucket, output: GenerationOutput, ext: str) -> bytes:
    """The row says ``stored`` in the S3 alias, and the object holds exactly the sandbox's bytes,
    with the row's size, hash and type."""
    assert output.state == OutputState.STORED
    assert output.storage == ALIAS
    assert output.error == output.error_reason == ""
    assert output.name == f"{prefix_of(output.generation)}{output.index}.{ext}"
    original = served(output.source_url)
    stored = bucket.read(output.name)
    assert stored == original
    assert output.size == len(stored)
    assert output.sha256 == hashlib.sha256(stored).hexdigest()
    assert bucket.head(output.name)["ContentType"] == output.content_type
    return stored


@pytest.mark.parametrize(
    ("model", "fields", "ext", "content_type"),
    [
        (IMAGE_MODEL, {"generation_ratio": "1:1"}, "png", "image/png"),
        (VIDEO_MODEL, {"generation_duration": 5}, "mp4", "video/mp4"),
    ],
    ids=["png", "mp4"],
)
def test_success_copies_the_file_into_s3(
    s3_sandbox: Sandbox,
    s3_bucket: S3Bucket,
    model: str,
    fields: dict[str, Any],
    ext: str,
    content_type: str,
) -> None:
    generation = succeed(s3_sandbox, model, **fields)
    output = only_output(generation)
    assert output.source_url.startswith(f"{s3_sandbox.url}/files/{generation.generation_id}/")
    assert output.content_type == content_type
    assert output.attempts == 1
    assert output.stored_at is not None
    assert_stored_intact(s3_bucket, output, ext)
    assert s3_bucket.keys() == files_of(output)
    # The renditions (resized images, a video's poster) were read back from S3 and went up
    # beside the original.
    assert len(files_of(output)) == (3 if ext == "png" else 2)
    types = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg"}
    for item in output.renditions:
        assert s3_bucket.head(item["name"])["ContentType"] == types[item["format"]]


def test_url_is_signed_by_the_storage_when_read(s3_sandbox: Sandbox, s3_bucket: S3Bucket) -> None:
    output = only_output(succeed(s3_sandbox, generation_ratio="1:1"))
    # Only the alias and the name are kept; a signed URL would go stale in the database.
    columns = {field.name for field in GenerationOutput._meta.get_fields()}
    assert "url" not in columns
    assert output.url is not None
    url = urlsplit(output.url)
    assert output.url.startswith(f"{s3_bucket.endpoint_url}/{s3_bucket.name}/{output.name}?")
    query = parse_qs(url.query)
    assert {"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Expires"} <= set(query)
    assert served(output.url) == s3_bucket.read(output.name)
    # The storage as configured now signs it: a shorter expiry gives another URL for the same
    # row, read again from the database.
    with override_settings(STORAGES=s3_storages(s3_bucket, querystring_expire=60)):
        again = GenerationOutput.objects.get(pk=output.pk).url
        assert again is not None
        assert parse_qs(urlsplit(again).query)["X-Amz-Expires"] == ["60"]
        assert served(again) == s3_bucket.read(output.name)
    assert query["X-Amz-Expires"] != ["60"]
    # A row that is not stored has no URL.
    GenerationOutput.objects.filter(pk=output.pk).update(state=OutputState.FAILED)
    assert GenerationOutput.objects.get(pk=output.pk).url is None


def test_large_video_goes_up_in_parts_intact(s3_sandbox: Sandbox, s3_bucket: S3Bucket) -> None:
    s3_sandbox.inject("huge_output", size=LARGE)
    output = only_output(succeed_video(s3_sandbox))
    assert output.size == LARGE
    assert_stored_intact(s3_bucket, output, "mp4")
    # A multipart upload's ETag is "<md5 of the parts' md5s>-<number of parts>".
    assert str(s3_bucket.head(output.name)["ETag"]).strip('"').endswith("-3")


def test_copying_again_keeps_one_object(s3_sandbox: Sandbox, s3_bucket: S3Bucket) -> None:
    generation = succeed(s3_sandbox, generation_ratio="1:1")
    output = only_output(generation)
    first = assert_stored_intact(s3_bucket, output, "png")
    prefix = prefix_of(generation)

    # A stored row is left alone: no new attempt, no new object.
    again = copy_output(output.pk)
    assert again.state == OutputState.STORED
    assert again.attempts == 1
    assert again.stored_at == output.stored_at
    assert s3_bucket.keys(prefix) == files_of(output)

    # A row that lost track of its copy (failed after the file went up) copies again onto the
    # same name: still one object, with the same bytes.
    GenerationOutput.objects.filter(pk=output.pk).update(
        state=OutputState.FAILED, error_reason="storage_error", error="lost"
    )
    recopied = copy_output(output.pk)
    assert recopied.attempts == 2
    assert recopied.name == output.name
    assert assert_stored_intact(s3_bucket, recopied, "png") == first
    assert s3_bucket.keys() == files_of(recopied)


def test_interrupted_transfer_leaves_no_object(s3_sandbox: Sandbox, s3_bucket: S3Bucket) -> None:
    # Cut after half of a file large enough to go up in parts: not even an unfinished
    # multipart upload may be left behind.
    s3_sandbox.inject("huge_output", size=LARGE)
    s3_sandbox.inject("output_truncated", path="/files/*", method="GET")
    generation = succeed_video(s3_sandbox)
    output = only_output(generation)
    assert output.state == OutputState.FAILED
    assert output.error_reason == "interrupted"
    assert output.error
    assert output.name == ""
    assert output.url is None
    assert s3_bucket.keys() == []
    uploads = s3_bucket.client.list_multipart_uploads(Bucket=s3_bucket.name)
    assert uploads.get("Uploads", []) == []

    # The fault was used up: the sweep copies it.
    assert copy_pending_outputs() == {"stored": 1, "failed": 0, "expired": 0, "skipped": 0}
    stored = GenerationOutput.objects.get(pk=output.pk)
    assert stored.attempts == 2
    assert stored.size == LARGE
    assert_stored_intact(s3_bucket, stored, "mp4")
    assert s3_bucket.keys() == files_of(stored)


@pytest.mark.parametrize("keep", [False, True], ids=["delete", "keep"])
def test_delete_generation_and_the_s3_copy(
    s3_sandbox: Sandbox, s3_bucket: S3Bucket, keep: bool
) -> None:
    output = only_output(succeed(s3_sandbox, generation_ratio="1:1"))
    assert s3_bucket.keys() == files_of(output)
    with override_settings(BABYSEA=babysea_s3(s3_sandbox, KEEP_LOCAL_COPIES=keep)):
        deleted = delete_generation(output.generation)
    assert deleted.removed
    # BabySea's file is gone either way.
    assert httpx.get(output.source_url, timeout=30).status_code == 404
    after = GenerationOutput.objects.get(pk=output.pk)
    if keep:
        assert after.state == OutputState.STORED
        assert s3_bucket.keys() == files_of(output)
        assert after.url is not None
        assert served(after.url) == s3_bucket.read(output.name)
    else:
        assert after.state == OutputState.DELETED
        assert after.url is None
        assert s3_bucket.keys() == []
    assert storages[ALIAS].exists(output.name) is keep
