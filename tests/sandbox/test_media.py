"""The sandbox's rendered outputs are real, decodable media."""

from __future__ import annotations

import io
import itertools
import re
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("PIL")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from PIL import Image, ImageChops  # noqa: E402

from django_babysea.sandbox.media import render as media  # noqa: E402

PROMPT = "A red fox jumping over a frozen creek at sunrise, 35mm film"
LABEL = "bfl/flux-schnell · output 1 · bfl"
PIL_NAMES = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}
MiB = 1024 * 1024


def ffmpeg(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def probe(path: Path) -> str:
    """ffmpeg's description of the input (what ffprobe would print), from ``ffmpeg -i``."""
    return ffmpeg("-i", path).stderr


def duration_of(info: str) -> float:
    match = re.search(r"Duration: (\d+):(\d+):(\d+\.\d+)", info)
    assert match, info
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of each top-level ISO BMFF box; fails unless they tile ``data``."""
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size == 1:
            size = struct.unpack_from(">Q", data, offset + 8)[0]
        assert size >= 8, f"bad box size {size} at {offset}"
        boxes.append((kind, offset, size))
        offset += size
    assert offset == len(data), "boxes do not end exactly at the end of the file"
    return boxes


def decode_errors(path: Path) -> str:
    result = ffmpeg("-v", "error", "-i", path, "-f", "null", "-")
    assert result.returncode == 0, result.stderr
    return result.stderr.strip()


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    path.write_bytes(media.render_video(PROMPT, seed=7, label=LABEL))
    return path


# --- sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        ("1:1", (768, 768)),
        ("16:9", (768, 432)),
        ("9:16", (432, 768)),
        ("4:3", (768, 576)),
        ("3:2", (768, 512)),
        ("21:9", (768, 330)),
        ("1280:720", (768, 432)),
        (" 16 : 9 ", (768, 432)),
        ("100:1", (768, 16)),
    ],
)
def test_image_size(ratio: str, expected: tuple[int, int]) -> None:
    assert media.image_size(ratio) == expected


def test_image_size_long_side_and_parity() -> None:
    assert media.image_size("16:9", long_side=640) == (640, 360)
    for ratio in ("7:5", "5:7", "2.39:1", "1920:1080", "1000:999", "1:30"):
        width, height = media.image_size(ratio, long_side=512)
        assert max(width, height) == 512
        assert width % 2 == 0
        assert height % 2 == 0
        assert min(width, height) >= 16


@pytest.mark.parametrize("ratio", ["", "16", "16:9:1", "a:b", "0:9", "16:0", "-16:9", "auto", "1:"])
def test_image_size_rejects_garbage(ratio: str) -> None:
    with pytest.raises(ValueError, match="aspect ratio"):
        media.image_size(ratio)


def test_image_size_rejects_odd_long_side() -> None:
    with pytest.raises(ValueError, match="long_side"):
        media.image_size("1:1", long_side=767)


# --- images ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", media.IMAGE_FORMATS)
@pytest.mark.parametrize("ratio", ["1:1", "16:9", "9:16", "4:3"])
def test_render_image_decodes_to_format_and_size(fmt: str, ratio: str) -> None:
    data = media.render_image(PROMPT, fmt=fmt, ratio=ratio, seed=3, label=LABEL)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == PIL_NAMES[fmt]
        assert image.get_format_mimetype() == media.CONTENT_TYPES[fmt]
        assert image.size == media.image_size(ratio)
        image.load()  # decodes every pixel


def test_render_image_long_side() -> None:
    data = media.render_image(PROMPT, ratio="3:4", long_side=256)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (192, 256)


@pytest.mark.parametrize("fmt", media.IMAGE_FORMATS)
def test_render_image_is_deterministic(fmt: str) -> None:
    first = media.render_image(PROMPT, fmt=fmt, ratio="16:9", seed=11, label=LABEL)
    again = media.render_image(PROMPT, fmt=fmt, ratio="16:9", seed=11, label=LABEL)
    assert first == again
    assert media.render_image(PROMPT + "!", fmt=fmt, ratio="16:9", seed=11, label=LABEL) != first
    assert media.render_image(PROMPT, fmt=fmt, ratio="16:9", seed=12, label=LABEL) != first


def test_prompt_text_is_drawn_over_the_background() -> None:
    size = media.image_size("16:9")
    background, _ = media._background(PROMPT, 5, size)
    with Image.open(io.BytesIO(media.render_image(PROMPT, ratio="16:9", seed=5))) as image:
        rendered = image.convert("RGB")
    diff = ImageChops.difference(rendered, background).convert("L").point(lambda v: v > 40 and 255)
    changed = diff.histogram()[255] / (size[0] * size[1])
    assert 0.02 < changed < 0.6, changed
    bbox = diff.getbbox()
    assert bbox is not None
    left, top, right, bottom = bbox
    assert left > 0  # the text stays inside the margins
    assert top > 0
    assert right < size[0]
    assert bottom < size[1]


def test_different_prompts_draw_different_text_on_the_same_background() -> None:
    size = media.image_size("1:1", long_side=256)
    background, _ = media._background("same", 0, size)

    def text_mask(prompt: str) -> Image.Image:
        canvas = background.copy()
        media._draw_prompt(canvas, prompt, (16, 16, 240, 240), (250, 250, 250))
        return ImageChops.difference(canvas, background).convert("1")

    assert ImageChops.difference(text_mask("a cat"), text_mask("a dog")).getbbox() is not None
    assert ImageChops.difference(text_mask("a cat"), text_mask("a cat")).getbbox() is None


def test_label_is_drawn_in_the_bottom_left_corner() -> None:
    plain = Image.open(io.BytesIO(media.render_image(PROMPT, seed=1))).convert("RGB")
    labelled = Image.open(io.BytesIO(media.render_image(PROMPT, seed=1, label=LABEL)))
    diff = ImageChops.difference(plain, labelled.convert("RGB"))
    corner = diff.crop((0, 768 - 40, 300, 768))
    assert corner.getbbox() is not None
    assert diff.crop((768 - 40, 0, 768, 40)).getbbox() is None


def test_empty_and_huge_prompts_still_render() -> None:
    for prompt in ("", "   ", "x" * 5000, "word " * 2000, "line\n" * 200, "猫 🦊 ünïcödé"):
        data = media.render_image(prompt, fmt="jpg", ratio="9:16", label=LABEL * 4)
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (432, 768)


@pytest.mark.parametrize("fmt", ["gif", "jpeg", "PNG", "mp4", ""])
def test_render_image_rejects_unknown_formats(fmt: str) -> None:
    with pytest.raises(ValueError, match="format"):
        media.render_image(PROMPT, fmt=fmt)


def test_render_image_rejects_bad_ratio() -> None:
    with pytest.raises(ValueError, match="aspect ratio"):
        media.render_image(PROMPT, ratio="wide")


# --- videos ----------------------------------------------------------------------------------


def test_video_is_a_faststart_mp4(video: Path) -> None:
    data = video.read_bytes()
    assert data[4:8] == b"ftyp"
    kinds = [kind for kind, _, _ in top_level_boxes(data)]
    assert kinds[0] == b"ftyp"
    assert kinds.index(b"moov") < kinds.index(b"mdat")


def test_video_decodes_without_errors(video: Path) -> None:
    assert decode_errors(video) == ""


def test_video_stream_is_h264_yuv420p_of_the_requested_length(video: Path) -> None:
    info = probe(video)
    assert duration_of(info) == pytest.approx(5.0, abs=0.05)
    stream = re.search(r"Stream #0:0.*Video: (.*)", info)
    assert stream, info
    assert stream.group(1).startswith("h264")
    assert "yuv420p" in stream.group(1)
    assert "640x360" in stream.group(1)
    assert "Audio" not in info
    counted = ffmpeg("-i", video, "-map", "0:v:0", "-c", "copy", "-f", "null", "-").stderr
    assert re.findall(r"frame=\s*(\d+)", counted)[-1] == "60"


def test_video_visibly_plays(video: Path) -> None:
    width, height = 640, 360
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf",
         r"select=eq(n\,0)+eq(n\,30)+eq(n\,59)", "-fps_mode", "passthrough",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    step = width * height * 3
    assert len(result.stdout) == 3 * step
    raw = [result.stdout[start : start + step] for start in range(0, 3 * step, step)]
    frames = [Image.frombytes("RGB", (width, height), frame) for frame in raw]
    for earlier, later in itertools.pairwise(frames):
        bbox = ImageChops.difference(earlier, later).convert("L").point(lambda v: v > 48 and 255)
        assert bbox.getbbox() is not None


@pytest.mark.parametrize(("ratio", "dims"), [("9:16", "360x640"), ("1:1", "640x640")])
def test_video_ratio_duration_and_fps(tmp_path: Path, ratio: str, dims: str) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(media.render_video("short", duration=2, ratio=ratio, fps=10))
    info = probe(path)
    assert dims in info
    assert "10 fps" in info
    assert duration_of(info) == pytest.approx(2.0, abs=0.05)
    assert decode_errors(path) == ""


@pytest.mark.parametrize("kwargs", [{"duration": 0}, {"fps": 0}, {"ratio": "sideways"}])
def test_render_video_rejects_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"positive|aspect ratio"):
        media.render_video(PROMPT, **kwargs)  # type: ignore[arg-type]


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as ffmpeg")
def test_ffmpeg_failure_raises_with_its_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'Unknown encoder libx264' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(fake))
    with pytest.raises(RuntimeError, match=r"exit 3.*Unknown encoder libx264"):
        media.render_video(PROMPT, duration=1)


# --- padded videos ---------------------------------------------------------------------------


def collect(chunks: Iterator[bytes], limit: int) -> bytes:
    out = bytearray()
    for chunk in chunks:
        out += chunk
        if len(out) >= limit:
            break
    return bytes(out)


def test_padded_video_is_exact_valid_and_decodable(video: Path, tmp_path: Path) -> None:
    base = video.read_bytes()
    target = len(base) + 3 * MiB + 123
    path = tmp_path / "padded.mp4"
    with path.open("wb") as out:
        for chunk in media.padded_video(base, target):
            assert 0 < len(chunk) <= MiB
            out.write(chunk)
    data = path.read_bytes()
    assert len(data) == target
    assert data.startswith(base)
    boxes = top_level_boxes(data)
    assert boxes[:-1] == top_level_boxes(base)
    assert boxes[-1] == (b"free", len(base), target - len(base))
    assert data[len(base) + 8 :].count(0) == target - len(base) - 8
    assert decode_errors(path) == ""
    assert duration_of(probe(path)) == pytest.approx(5.0, abs=0.05)


def test_padded_video_streams_in_small_memory(video: Path) -> None:
    base = video.read_bytes()
    target = 64 * MiB
    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in media.padded_video(base, target))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == target
    assert peak < 8 * MiB, peak


def test_padded_video_smallest_padding(video: Path) -> None:
    base = video.read_bytes()
    data = b"".join(media.padded_video(base, len(base) + 8))
    assert data == base + struct.pack(">I4s", 8, b"free")
    with pytest.raises(ValueError, match="target_size"):
        media.padded_video(base, len(base) + 7)


@pytest.mark.parametrize(
    ("padding", "header"),
    [
        (0xFFFFFFFF, struct.pack(">I4s", 0xFFFFFFFF, b"free")),
        (2**32, struct.pack(">I4sQ", 1, b"free", 2**32)),
        (5 * 2**30 + 3, struct.pack(">I4sQ", 1, b"free", 5 * 2**30 + 3)),
    ],
)
def test_padded_video_uses_largesize_beyond_4_gib(video: Path, padding: int, header: bytes) -> None:
    base = video.read_bytes()
    head = collect(media.padded_video(base, len(base) + padding), len(base) + 32)
    assert head[: len(base)] == base
    assert head[len(base) : len(base) + len(header)] == header
    assert sum(len(chunk) for chunk in media.padded_video(base, len(base) + padding)) == (
        len(base) + padding
    )


def test_padded_video_rejects_a_base_that_is_not_whole_boxes(video: Path) -> None:
    base = video.read_bytes()
    for broken in (b"definitely not an mp4", base[:-1], base + b"\x00\x00"):
        with pytest.raises(ValueError, match="box"):
            media.padded_video(broken, len(broken) + MiB)


# --- cache -----------------------------------------------------------------------------------


class CountingRenderer:
    def __init__(self, *, delay: float = 0.0, size: int = 10) -> None:
        self.calls: list[str] = []
        self.delay, self.size = delay, size
        self.lock = threading.Lock()

    def __call__(self, prompt: str, **kwargs: object) -> bytes:
        with self.lock:
            self.calls.append(prompt)
        time.sleep(self.delay)
        return prompt.encode().ljust(self.size, b".")


def run_threads(count: int, target: Callable[[], object]) -> list[object]:
    results: list[object] = [None] * count
    barrier = threading.Barrier(count)

    def work(index: int) -> None:
        barrier.wait()
        results[index] = target()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_cache_renders_once_under_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = CountingRenderer(delay=0.2)
    monkeypatch.setattr(media, "render_image", renderer)
    cache = media.MediaCache()
    results = run_threads(16, lambda: cache.image("fox", fmt="png", ratio="1:1", seed=1, label="x"))
    assert renderer.calls == ["fox"]
    assert cache.renders == 1
    assert len({id(result) for result in results}) == 1


def test_cache_renders_different_keys_in_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    both_inside = threading.Barrier(2, timeout=5)

    def render(prompt: str, **kwargs: object) -> bytes:
        both_inside.wait()  # breaks (raises) if the renders were serialised
        return prompt.encode()

    monkeypatch.setattr(media, "render_image", render)
    cache = media.MediaCache()
    results: dict[str, bytes] = {}

    def fetch(prompt: str) -> None:
        results[prompt] = cache.image(prompt, fmt="png", ratio="1:1", seed=0, label="")

    threads = [threading.Thread(target=fetch, args=(p,)) for p in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == {"a": b"a", "b": b"b"}


def test_cache_evicts_least_recently_used_by_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = CountingRenderer(size=40)
    monkeypatch.setattr(media, "render_image", renderer)
    cache = media.MediaCache(max_bytes=100)

    def get(prompt: str) -> bytes:
        return cache.image(prompt, fmt="png", ratio="1:1", seed=0, label="")

    for prompt in ("A", "B", "C"):  # C pushes the total to 120 bytes: A goes
        get(prompt)
    assert cache.size_bytes == 80
    get("B")  # a hit, and B becomes the most recently used
    get("D")  # C is now the least recently used
    assert renderer.calls == ["A", "B", "C", "D"]
    get("B")
    get("D")
    assert renderer.calls == ["A", "B", "C", "D"]
    get("C")
    get("A")
    assert renderer.calls == ["A", "B", "C", "D", "C", "A"]
    assert cache.size_bytes <= 100


def test_cache_does_not_keep_outputs_larger_than_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renderer = CountingRenderer(size=50)
    monkeypatch.setattr(media, "render_video", renderer)
    cache = media.MediaCache(max_bytes=20)
    for _ in range(2):
        assert cache.video("big", duration=5, ratio="16:9", seed=0, label="").startswith(b"big")
    assert renderer.calls == ["big", "big"]
    assert cache.size_bytes == 0


def test_cache_keys_cover_every_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, dict[str, object]]] = []

    def render(prompt: str, **kwargs: object) -> bytes:
        seen.append((prompt, kwargs))
        return b"x"

    monkeypatch.setattr(media, "render_image", render)
    monkeypatch.setattr(media, "render_video", render)
    cache = media.MediaCache()
    base = {"fmt": "png", "ratio": "1:1", "seed": 0, "label": ""}
    for change in ({}, {"fmt": "jpg"}, {"ratio": "16:9"}, {"seed": 1}, {"label": "l"}, {}):
        cache.image("p", **{**base, **change})  # type: ignore[arg-type]
    cache.video("p", duration=5, ratio="1:1", seed=0, label="")
    cache.video("p", duration=6, ratio="1:1", seed=0, label="")
    cache.video("p", duration=5, ratio="1:1", seed=0, label="")
    assert len(seen) == 7
    assert seen[1] == ("p", {**base, "fmt": "jpg"})
    assert seen[-1] == ("p", {"duration": 6, "ratio": "1:1", "seed": 0, "label": ""})


def test_cache_forgets_failed_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes: Iterator[Exception | bytes] = iter([RuntimeError("ffmpeg exploded"), b"ok"])

    def render(prompt: str, **kwargs: object) -> bytes:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(media, "render_video", render)
    cache = media.MediaCache()
    with pytest.raises(RuntimeError, match="exploded"):
        cache.video("p", duration=5, ratio="16:9", seed=0, label="")
    assert cache.video("p", duration=5, ratio="16:9", seed=0, label="") == b"ok"
    assert cache.video("p", duration=5, ratio="16:9", seed=0, label="") == b"ok"


def test_cache_returns_real_renders() -> None:
    cache = media.MediaCache()
    args = {"fmt": "webp", "ratio": "4:3", "seed": 9, "label": LABEL}
    data = cache.image(PROMPT, **args)  # type: ignore[arg-type]
    assert data == media.render_image(PROMPT, **args)  # type: ignore[arg-type]
    assert cache.image(PROMPT, **args) is data  # type: ignore[arg-type]
    assert cache.size_bytes == len(data)
