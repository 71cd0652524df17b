"""Benchmark: copying one large output file into the site's storage, against ``curl -o``.

The sandbox runs in its own process (so the server never competes with the copy for the GIL) and
serves a video generation whose output is ``--size`` bytes. This process configures Django
(SQLite and a FileSystemStorage in a temporary directory), submits the generation through the
services and refreshes it once it succeeded, which records the output row and copies it (the
warm-up). Each measured round then runs ``curl -o`` on the output URL and, after it, the real
service call ``copy_output(pk)`` with the row set back to ``pending``.

Printed: the throughput of both (MB/s, 1 MB = 10^6 bytes) and their ratio, and the resident
memory of this process just before each copy and at its peak during the copy. The stored file
is checked against curl's (size and sha256) every round. The targets are reported, not
asserted: the exit status is 0 unless something broke.

    python benchmarks/copy_large_output.py [--size 512MiB] [--repeat 3] [--dir PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Final

import httpx

import django_babysea

MODEL: Final = "google/veo-2"
PROMPT: Final = "A harbor seal pup asleep on a snowy ice floe, slow pan"
DEFAULT_SIZE: Final = "512MiB"
MEMORY_TARGET_MB: Final = 64.0
RATIO_TARGET: Final = 0.8
STARTUP_TIMEOUT: Final = 30.0
HASH_CHUNK: Final = 1 << 20
UNITS: Final = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}


class BenchmarkError(Exception):
    """Something broke: the figures would mean nothing."""


def parse_size(text: str) -> int:
    """``512MiB``, ``500MB``, ``1G`` or a number of bytes (KB/MB/GB are powers of 1000,
    K/M/G and KiB/MiB/GiB powers of 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if found is None or found[2].lower() not in UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 512MiB, 500MB, 8MB)")
    size = int(float(found[1]) * UNITS[found[2].lower()])
    if size < 1:
        raise argparse.ArgumentTypeError("the size must be at least one byte")
    return size


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


# -- memory -------------------------------------------------------------------------------------


def _status_kb(field: str) -> int | None:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def rss_bytes() -> int:
    kb = _status_kb("VmRSS")
    if kb is None:
        raise BenchmarkError("/proc/self/status has no VmRSS: Linux is needed")
    return kb * 1024


def _reset_high_water_mark() -> bool:
    """Set VmHWM back to the current RSS (Linux: "5" into clear_refs), so the peak read after
    the copy belongs to the copy alone."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    hwm = _status_kb("VmHWM")
    return hwm is not None and hwm * 1024 <= rss_bytes() + (1 << 20)


@contextlib.contextmanager
def peak_rss() -> Iterator[dict[str, Any]]:
    """Yields a dict filled on exit: ``before`` (RSS at the start), ``peak`` and ``method``.

    The kernel's high-water mark is exact and costs nothing; where it cannot be reset, a
    thread samples VmRSS every 10 ms instead (and may miss a shorter spike)."""
    gc.collect()
    result: dict[str, Any] = {"before": rss_bytes()}
    if _reset_high_water_mark():
        result["method"] = "VmHWM reset through /proc/self/clear_refs"
        yield result
        result["peak"] = max((_status_kb("VmHWM") or 0) * 1024, rss_bytes())
        return
    result["method"] = "VmRSS sampled every 10 ms"
    stop = threading.Event()
    samples = [result["before"]]

    def sample() -> None:
        while not stop.wait(0.01):
            samples.append(rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        stop.set()
        sampler.join()
        result["peak"] = max([*samples, rss_bytes()])


# -- the sandbox --------------------------------------------------------------------------------


class SandboxProcess:
    """``python -m django_babysea.sandbox`` on a free loopback port, in its own session so a
    Ctrl-C in the terminal reaches this script only; :meth:`stop` ends it."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        command = [
            sys.executable,
            "-m",
            "django_babysea.sandbox",
            "--port",
            "0",
            "--speed",
            "0",
            "--seed",
            "1",
            "--rate-limit",
            "10000",
        ]
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                command,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
            )
        # The first line names the URL ("... on http://127.0.0.1:PORT - keys ...").
        stdout = self.process.stdout
        assert stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT)
        found = re.search(r"on (http://\S+)", line[0]) if line else None
        if found is None:
            self.stop()
            log_text = self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise BenchmarkError(f"the sandbox did not start:\n{log_text}")
        self.url = found[1]
        return self.url

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()  # the sandbox stops cleanly on SIGTERM
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


def control(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{url}/_sandbox{path}", json=body, timeout=30)
    if response.status_code >= 400:
        raise BenchmarkError(
            f"sandbox control {path} answered {response.status_code}: {response.text}"
        )
    result: dict[str, Any] = response.json()
    return result


# -- Django -------------------------------------------------------------------------------------


def configure_django(root: Path, sandbox_url: str, size: int) -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    from django_babysea.conf import DEFAULTS
    from django_babysea.sandbox.defaults import DEMO_API_KEY, DEMO_WEBHOOK_SECRET

    media, uploads = root / "media", root / "uploads"
    media.mkdir()
    uploads.mkdir()
    settings.configure(
        SECRET_KEY=secrets.token_urlsafe(50),
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django_babysea"],
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": root / "db.sqlite3"}
        },
        STORAGES={
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": media},
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        MEDIA_ROOT=media,
        MEDIA_URL="/media/",
        # The download's temporary file sits on the storage's file system, so saving it is
        # a rename, as on a site whose FILE_UPLOAD_TEMP_DIR and MEDIA_ROOT share a disk.
        FILE_UPLOAD_TEMP_DIR=uploads,
        BABYSEA={
            "API_KEY": DEMO_API_KEY,
            "BASE_URL": sandbox_url,
            "WEBHOOK_SECRETS": [DEMO_WEBHOOK_SECRET],
            "MAX_RETRIES": 0,
            "TIMEOUT": 30,
            "MAX_OUTPUT_BYTES": max(DEFAULTS["MAX_OUTPUT_BYTES"], size),
        },
        LOGGING_CONFIG=None,
    )
    django.setup()
    call_command("migrate", verbosity=0)


@dataclass(frozen=True)
class Output:
    pk: int
    url: str


def succeeded_output(sandbox_url: str, size: int) -> tuple[Output, float, dict[str, Any]]:
    """Submit a video generation of ``size``-byte outputs, let it succeed and refresh it: the
    refresh records the output row and runs its copy inline (the warm-up, timed with the
    refresh). Returns the output, the refresh's seconds and its memory figures."""
    from django_babysea.models import OutputState
    from django_babysea.services import refresh_generation, submit_generation

    control(sandbox_url, "/faults", {"kind": "huge_output", "size": size})
    generation = submit_generation(MODEL, generation_prompt=PROMPT, generation_duration=5)
    if generation.generation_id is None:
        raise BenchmarkError(
            f"the submission failed: {generation.status} {generation.error_message}"
        )
    control(sandbox_url, "/run-until-idle", {"timeout": 30})
    with peak_rss() as memory:
        started = time.perf_counter()
        generation = refresh_generation(generation)
        seconds = time.perf_counter() - started
    if generation.status != "succeeded":
        raise BenchmarkError(f"the generation is {generation.status}, not succeeded")
    output = generation.outputs.get(index=0)
    if output.state != OutputState.STORED:
        raise BenchmarkError(f"the warm-up copy ended {output.state}: {output.error}")
    if output.size != size:
        raise BenchmarkError(
            f"the warm-up copy stored {output.size} bytes, not {size} (the sandbox pads its "
            "video to the size asked for, so the size cannot be less than the video itself)"
        )
    return Output(output.pk, output.source_url), seconds, memory


def set_pending(pk: int) -> None:
    """Delete the stored copy and put the row back to ``pending``, as recorded on success."""
    from django.core.files.storage import storages

    from django_babysea.models import GenerationOutput, OutputState

    output = GenerationOutput.objects.get(pk=pk)
    if output.name:
        storages[output.storage].delete(output.name)
    GenerationOutput.objects.filter(pk=pk).update(
        state=OutputState.PENDING,
        name="",
        size=None,
        sha256="",
        content_type="",
        stored_at=None,
        copy_started_at=None,
        error="",
        error_reason="",
    )


def stored_path(pk: int) -> tuple[Path, str]:
    from django.core.files.storage import storages

    from django_babysea.models import GenerationOutput, OutputState

    output = GenerationOutput.objects.get(pk=pk)
    if output.state != OutputState.STORED:
        raise BenchmarkError(
            f"the copy ended {output.state} ({output.error_reason}): {output.error}"
        )
    return Path(storages[output.storage].path(output.name)), output.sha256


# -- one round ----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Round:
    curl_seconds: float
    curl_cpu: float
    copy_seconds: float
    copy_cpu: float
    rss_before: int
    rss_peak: int
    memory_method: str

    @property
    def growth(self) -> int:
        return max(0, self.rss_peak - self.rss_before)


def run_curl(curl: str, url: str, dest: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of ``curl -o``."""
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 (curl found on PATH, a URL we made)
        [curl, "--silent", "--show-error", "--fail", "--output", str(dest), url],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchmarkError(f"curl failed ({result.returncode}): {result.stderr.strip()}")
    return seconds, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def run_copy(pk: int) -> tuple[float, float, dict[str, Any]]:
    """Wall-clock and CPU seconds (every thread of this process) of ``copy_output``, and the
    memory figures."""
    from django_babysea.services import copy_output

    set_pending(pk)
    with peak_rss() as memory:
        cpu = cpu_seconds(resource.RUSAGE_SELF)
        started = time.perf_counter()
        copy_output(pk)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(resource.RUSAGE_SELF) - cpu
    return seconds, cpu, memory


def one_round(curl: str, output: Output, size: int, scratch: Path) -> Round:
    curl_file = scratch / "curl-output.bin"
    try:
        curl_seconds, curl_cpu = run_curl(curl, output.url, curl_file)
        curl_size, curl_sha = curl_file.stat().st_size, sha256_of(curl_file)
    finally:
        unlink(curl_file)
    if curl_size != size:
        raise BenchmarkError(f"curl received {curl_size} bytes, not {size}")
    copy_seconds, copy_cpu, memory = run_copy(output.pk)
    path, recorded_sha = stored_path(output.pk)
    try:
        stored_size, stored_sha = path.stat().st_size, sha256_of(path)
    finally:
        unlink(path)  # the next round puts the row back to pending anyway
    if (stored_size, stored_sha, recorded_sha) != (curl_size, curl_sha, curl_sha):
        raise BenchmarkError(
            f"the stored copy differs from curl's file: {stored_size} bytes sha256 {stored_sha} "
            f"(recorded {recorded_sha}) vs {curl_size} bytes sha256 {curl_sha}"
        )
    return Round(
        curl_seconds,
        curl_cpu,
        copy_seconds,
        copy_cpu,
        memory["before"],
        memory["peak"],
        memory["method"],
    )


# -- report -------------------------------------------------------------------------------------


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def rate(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def describe_round(number: int, size: int, r: Round) -> str:
    return (
        f"round {number}: curl {rate(size, r.curl_seconds):.1f} MB/s "
        f"({r.curl_seconds:.2f} s, CPU {r.curl_cpu:.2f} s), "
        f"copy {rate(size, r.copy_seconds):.1f} MB/s "
        f"({r.copy_seconds:.2f} s, CPU {r.copy_cpu:.2f} s), RSS growth {mb(r.growth)}"
    )


def summary(size: int, rounds: list[Round]) -> list[str]:
    curl_rates = [rate(size, r.curl_seconds) for r in rounds]
    copy_rates = [rate(size, r.copy_seconds) for r in rounds]
    ratio = statistics.median(copy_rates) / statistics.median(curl_rates)
    best_ratio = max(copy_rates) / max(curl_rates)
    worst = max(rounds, key=lambda r: r.growth)
    return [
        f"curl -o throughput: median {statistics.median(curl_rates):.1f} MB/s, "
        f"best {max(curl_rates):.1f} MB/s, "
        f"CPU median {statistics.median(r.curl_cpu for r in rounds):.2f} s",
        f"copy_output throughput: median {statistics.median(copy_rates):.1f} MB/s, "
        f"best {max(copy_rates):.1f} MB/s, "
        f"CPU median {statistics.median(r.copy_cpu for r in rounds):.2f} s",
        f"throughput ratio copy/curl: {ratio:.2f}x (medians; best {best_ratio:.2f}x), "
        f"target >= {RATIO_TARGET}x: {verdict(ratio >= RATIO_TARGET)}",
        f"peak memory of the copying process: baseline RSS {mb(worst.rss_before)}, "
        f"peak RSS {mb(worst.rss_peak)}, growth {mb(worst.growth)} "
        f"(worst round; {worst.memory_method}), "
        f"target < {MEMORY_TARGET_MB:.0f} MB: {verdict(worst.growth < MEMORY_TARGET_MB * 1e6)}",
        f"verified: every stored copy has curl's size ({size} bytes) and sha256",
    ]


# -- main ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/copy_large_output.py",
        description="Copy a large output from the sandbox with copy_output and with curl -o; "
        "print throughput (ratio to curl) and the copying process's peak memory.",
    )
    parser.add_argument(
        "--size",
        type=parse_size,
        default=parse_size(DEFAULT_SIZE),
        help=f"output size (default {DEFAULT_SIZE}; KB/MB/GB decimal, KiB/MiB/GiB binary)",
    )
    parser.add_argument(
        "--repeat", type=positive_int, default=3, help="measured rounds (default 3)"
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the temporary directory goes (default: the system's); each round writes "
        "the output there twice, one file at a time",
    )
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    size, repeat = options.size, options.repeat

    def say(text: str) -> None:
        print(text, flush=True)

    curl = shutil.which("curl")
    if curl is None:
        say("error: curl is not on PATH; it is the baseline of this benchmark")
        return 1
    # SIGTERM takes the way out of Ctrl-C, so the sandbox and the files always go; SIGINT is
    # set too, as a shell starting this in the background would have it ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    root = Path(tempfile.mkdtemp(prefix="babysea-bench-", dir=options.dir))
    sandbox = SandboxProcess(root / "sandbox.log")
    try:
        say(
            f"copy_large_output: {size} bytes ({size / 2**20:.1f} MiB), "
            f"{repeat} round{'s' if repeat != 1 else ''} of "
            f"curl -o then copy_output; files in {root}"
        )
        url = sandbox.start()
        configure_django(root, url, size)
        package = Path(django_babysea.__file__).parent
        say(f"code measured: {package}, Python {sys.version.split()[0]}")
        output, seconds, memory = succeeded_output(url, size)
        say(f"source: {output.url} (sandbox in its own process)")
        say(
            f"warm-up: refresh_generation with its inline copy {seconds:.2f} s, "
            f"RSS {mb(memory['before'])} -> peak {mb(memory['peak'])} "
            "(first imports and connections included)"
        )
        scratch = root / "curl"
        scratch.mkdir()
        rounds = []
        for number in range(1, repeat + 1):
            rounds.append(one_round(curl, output, size, scratch))
            say(describe_round(number, size, rounds[-1]))
        for line in summary(size, rounds):
            say(line)
    except BenchmarkError as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        # A second Ctrl-C must not leave the sandbox or the files behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sandbox.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
