"""Bad or hostile sources: each is refused with a recorded reason, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import copy_output

from .conftest import VIDEO_MODEL, succeed

pytestmark = pytest.mark.django_db(transaction=True)

FILES = "/files/*"


@pytest.fixture
def temp_dir(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "uploads"
    path.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(path)
    return path


def assert_refused(generation: Generation, reason: str, media: Path, temp_dir: Path) -> str:
    output = generation.outputs.get()
    assert (output.state, output.error_reason) == (OutputState.FAILED, reason), output.error
    assert output.error
    assert (output.name, output.size, output.sha256, output.url) == ("", None, "", None)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    assert list(temp_dir.iterdir()) == []
    return output.error


def with_source(generation: Generation, url: str) -> Generation:
    """The generation's output pointing at ``url``, as a forged remote record would have it."""
    GenerationOutput.objects.filter(generation=generation).update(
        source_url=url, state=OutputState.FAILED
    )
    copy_output(generation.outputs.get().pk)
    return generation


@pytest.fixture
def uncopied(sandbox: Sandbox) -> Generation:
    """A succeeded generation whose first copy attempt was refused by the source (HTTP 503)."""
    sandbox.inject("output_status", status=503, path=FILES)
    return succeed(sandbox)


@pytest.mark.parametrize(
    ("url", "hosts", "reason", "words"),
    [
        ("https://evil.example.com/a.png", None, "host_not_allowed", "not in BABYSEA"),
        ("http://cdn.us.babysea.ai/a.png", None, "insecure_scheme", "https only"),
        ("ftp://cdn.us.babysea.ai/a.png", None, "bad_url", "not a plain"),
        ("https://user:pw@cdn.us.babysea.ai/a.png", None, "bad_url", "not a plain"),
        ("https://localhost:9/a.png", ["localhost"], "private_address", "non-public"),
        ("https://10.1.2.3/a.png", ["10.1.2.3"], "private_address", "10.1.2.3"),
        ("https://169.254.169.254/latest", ["169.254.169.254"], "private_address", "non-public"),
        ("https://[::1]:9/a.png", ["::1"], "private_address", "non-public"),
        ("https://[::ffff:127.0.0.1]/a.png", ["::ffff:127.0.0.1"], "private_address", "127"),
        ("https://[64:ff9b::7f00:1]/a.png", ["64:ff9b::7f00:1"], "private_address", "non-public"),
        ("https://[2002:a00:1::]/a.png", ["2002:a00:1::"], "private_address", "non-public"),
        ("https://[::127.0.0.1]/a.png", ["::127.0.0.1"], "private_address", "non-public"),
    ],
)
def test_sources_refused_before_any_request(
    uncopied: Generation,
    configure: Callable[..., None],
    media: Path,
    temp_dir: Path,
    url: str,
    hosts: list[str] | None,
    reason: str,
    words: str,
) -> None:
    if hosts is not None:
        configure(OUTPUT_HOSTS=hosts)
    error = assert_refused(with_source(uncopied, url), reason, media, temp_dir)
    assert words in error


def test_the_sandbox_origin_is_the_only_loopback_exception(
    uncopied: Generation, configure: Callable[..., None], media: Path, temp_dir: Path
) -> None:
    # The same sandbox file on another loopback origin ("localhost" instead of the IP in
    # BASE_URL) is an ordinary host: not allowed, and http besides.
    url = uncopied.outputs.get().source_url.replace("127.0.0.1", "localhost")
    configure(OUTPUT_HOSTS=["localhost"])
    assert_refused(with_source(uncopied, url), "insecure_scheme", media, temp_dir)


def test_redirect_to_another_host_is_refused(sandbox: Sandbox, media: Path, temp_dir: Path) -> None:
    sandbox.inject("output_redirect", path=FILES)
    error = assert_refused(succeed(sandbox), "redirect_refused", media, temp_dir)
    assert "localhost" in error


def test_redirect_on_the_same_origin_is_followed(sandbox: Sandbox, media: Path) -> None:
    sandbox.inject("output_status", status=503, path=FILES)
    generation = succeed(sandbox)
    output = generation.outputs.get()
    target = output.source_url
    moved = target.replace("/output-0.png", "/output-9.png")
    GenerationOutput.objects.filter(pk=output.pk).update(source_url=moved)
    sandbox.inject("output_redirect", location=target, path="*/output-9.png")
    stored = copy_output(output.pk)
    assert stored.state == OutputState.STORED, stored.error
    assert (media / stored.name).is_file()


def test_redirect_loops_end(sandbox: Sandbox, media: Path, temp_dir: Path) -> None:
    sandbox.inject("output_status", status=503, path=FILES)
    generation = succeed(sandbox)
    url = generation.outputs.get().source_url
    sandbox.inject("output_redirect", location=url, path=FILES, times=10)
    copy_output(generation.outputs.get().pk)
    assert "More than 3 redirects" in assert_refused(
        generation, "redirect_refused", media, temp_dir
    )


@pytest.mark.parametrize(
    ("fault", "params", "reason", "words"),
    [
        ("output_content_type", {}, "bad_content_type", "text/html"),
        ("output_content_type", {"content_type": "font/woff2"}, "bad_content_type", "not an image"),
        ("output_html", {}, "unrecognised_format", "not an image or video format"),
        ("output_content_type", {"content_type": "video/mp4"}, "content_mismatch", "image/png"),
        ("output_status", {"status": 500}, "http_status", "HTTP 500"),
        ("output_truncated", {}, "interrupted", "broke off"),
    ],
)  # fmt: skip
def test_bad_answers_are_refused(
    sandbox: Sandbox,
    media: Path,
    temp_dir: Path,
    fault: str,
    params: dict[str, Any],
    reason: str,
    words: str,
) -> None:
    sandbox.inject(fault, path=FILES, **params)
    assert words in assert_refused(succeed(sandbox), reason, media, temp_dir)


def test_a_declared_size_over_the_cap_is_refused_before_streaming(
    sandbox: Sandbox, configure: Callable[..., None], media: Path, temp_dir: Path
) -> None:
    configure(MAX_OUTPUT_BYTES=1000)
    error = assert_refused(succeed(sandbox), "too_large", media, temp_dir)
    assert "over BABYSEA['MAX_OUTPUT_BYTES'] (1000)" in error


def test_an_undeclared_size_is_capped_while_streaming(
    sandbox: Sandbox, configure: Callable[..., None], media: Path, temp_dir: Path
) -> None:
    configure(MAX_OUTPUT_BYTES=2 * 1024 * 1024)
    # No Content-Length, and far more bytes than the cap: the copy stops at the cap.
    sandbox.inject("output_unbounded", size=512 * 1024 * 1024, path=FILES)
    generation = succeed(sandbox, VIDEO_MODEL, generation_duration=5)
    assert "while streaming" in assert_refused(generation, "too_large", media, temp_dir)


def test_a_stalled_source_times_out(
    sandbox: Sandbox, configure: Callable[..., None], media: Path, temp_dir: Path
) -> None:
    configure(TIMEOUT=0.5)
    sandbox.inject("output_stall", seconds=5, path=FILES)
    assert "0.5s" in assert_refused(succeed(sandbox), "timeout", media, temp_dir)
