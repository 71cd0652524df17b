"""``manage.py babysea_renditions``: regenerate after a settings change, select, report, refuse."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from django_babysea.sandbox import Sandbox
from django_babysea.services.renditions import rendition_names
from tests.commands.conftest import Manage

from .conftest import VIDEO_MODEL, manage, succeed
from .test_failures import real_png, serving

__all__ = ["manage"]

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("babysea_renditions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def files_beside(media: Path, name: str) -> list[str]:
    return sorted(p.name for p in (media / name).parent.iterdir())


def test_a_settings_change_then_the_command(
    sandbox: Sandbox, configure: Callable[..., None], media: Path
) -> None:
    configure(RENDITION_WIDTHS=[320, 640])
    generation = succeed(sandbox, generation_ratio="16:9")
    output = generation.outputs.get()
    assert files_beside(media, output.name) == [
        "0.320w.avif",
        "0.320w.webp",
        "0.640w.avif",
        "0.640w.webp",
        "0.png",
    ]
    original = (media / output.name).read_bytes()
    # Nothing is missing while the settings stay the same.
    assert run("--missing-only") == ("Renditions of 0 outputs: 0 made, 0 failed, 0 skipped.\n", "")

    configure(RENDITION_WIDTHS=[400], RENDITION_FORMATS=["webp"])
    out, _ = run("--missing-only", "--dry-run")
    label = f"{generation.generation_id} output 0"
    assert out == (
        f"{label}: {output.name} (renditions: image:320,640:avif,webp:q80)\n"
        "Would make renditions of 1 output.\n"
    )
    assert len(files_beside(media, output.name)) == 5  # a dry run changes nothing

    assert run("--missing-only", "-v", "2") == (
        f"{label}: made, 1 renditions\nRenditions of 1 output: 1 made, 0 failed, 0 skipped.\n",
        "",
    )
    output.refresh_from_db()
    assert output.renditions_key == "image:400:webp:q80"
    assert files_beside(media, output.name) == ["0.400w.webp", "0.png"]
    assert (media / output.name).read_bytes() == original
    assert run("--missing-only")[0].startswith("Renditions of 0 outputs")

    # All stored outputs, missing or not: same names, same files.
    assert run()[0] == "Renditions of 1 output: 1 made, 0 failed, 0 skipped.\n"
    assert files_beside(media, output.name) == ["0.400w.webp", "0.png"]


def test_one_generation(sandbox: Sandbox, media: Path) -> None:
    image = succeed(sandbox, generation_ratio="16:9")
    video = succeed(sandbox, VIDEO_MODEL, generation_duration=5)
    out, _ = run("--generation", str(video.generation_id), "--dry-run")
    assert out.endswith("Would make renditions of 1 output.\n")
    assert str(video.generation_id) in out
    assert str(image.generation_id) not in out
    poster = rendition_names(video.outputs.get())
    (media / poster[0]).unlink()
    assert run("--generation", str(video.pk))[0].endswith("1 made, 0 failed, 0 skipped.\n")
    assert (media / poster[0]).is_file()


def test_failures_exit_non_zero(
    sandbox: Sandbox, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = real_png((900, 600))
    serving(monkeypatch, whole[: len(whole) // 2])
    generation = succeed(sandbox, generation_prompt="a truncated seal for the command")
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"^1 of 1 output failed \(errors listed above"):
        call_command("babysea_renditions", stdout=io.StringIO(), stderr=err)
    assert err.getvalue().startswith(f"{generation.generation_id} output 0: failed: The image")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--generation", "seal"], "--generation 'seal' is not a generation id (UUID)."),
        (["--generation", str(uuid.UUID(int=7))], f"No generation {uuid.UUID(int=7)} "),
    ],
)
def test_bad_input(sandbox: Sandbox, args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as raised:
        run(*args)
    assert str(raised.value).startswith(message)


def test_refused_when_renditions_are_off(sandbox: Sandbox, configure: Callable[..., None]) -> None:
    configure(RENDITIONS=False)
    with pytest.raises(CommandError, match=r"RENDITIONS'\] is off"):
        run()


def test_manage_py(manage: Manage) -> None:
    migrate = manage("migrate", "--no-input", "-v", "0")
    assert migrate.returncode == 0, migrate.stderr
    done = manage("babysea_renditions", "--missing-only")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "Renditions of 0 outputs: 0 made, 0 failed, 0 skipped.\n"
    refused = manage("babysea_renditions", "--generation", "seal")
    assert refused.returncode == 1
    assert refused.stderr == "CommandError: --generation 'seal' is not a generation id (UUID).\n"
