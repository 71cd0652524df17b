"""Command line of the sandbox, shared by ``python -m django_babysea.sandbox`` and
``manage.py babysea_sandbox`` (the same options, built by :func:`add_arguments`)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from django_babysea.sandbox.defaults import DEFAULT_PORT, DEMO_WEBHOOK_SECRET
from django_babysea.sandbox.extra import MissingExtra, require_extra

if TYPE_CHECKING:
    from django_babysea.sandbox.app import Sandbox
    from django_babysea.sandbox.state.accounts import KeySpec

__all__ = ["add_arguments", "build_parser", "build_sandboxes", "main", "serve_forever"]

REGIONS = ("us", "eu", "jp")
PLANS = ("free", "starter", "pro", "scale", "enterprise")


def _key(text: str) -> KeySpec:
    from django_babysea.sandbox.state.accounts import parse_key_spec

    try:
        return parse_key_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text[:9]}...: {exc}") from None


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {value}")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"must be zero or more, not {text}")
    return value


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"the balance must be zero or more, not {text}")
    return value


def _secret(text: str) -> str:
    if not text.startswith("whsec_") or len(text) <= len("whsec_"):
        raise argparse.ArgumentTypeError("webhook secrets look like whsec_ followed by a string")
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _caps(text: str) -> tuple[int, int]:
    image, _, video = text.partition(",")
    try:
        caps = (int(image), int(video))
    except ValueError:
        raise argparse.ArgumentTypeError(f"use IMAGE,VIDEO (two integers), not {text!r}") from None
    if min(caps) < 1:
        raise argparse.ArgumentTypeError(f"caps must be at least 1, not {text}")
    return caps


def add_arguments(parser: Any) -> None:
    """Add every sandbox option to ``parser`` (an argparse parser or Django's CommandParser)."""
    from django_babysea.sandbox.faults.injection import PROFILES

    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any)"
    )
    parser.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        type=_key,
        metavar="KEY[:PRESET[:REGION]]",
        help="accepted key, repeatable; presets full_access (default), generate_only, "
        "read_only, monitor_only (default: the demo key)",
    )
    parser.add_argument(
        "--webhook-url", dest="webhook_urls", action="append", default=[], metavar="URL"
    )
    parser.add_argument(
        "--webhook-secret",
        dest="webhook_secrets",
        action="append",
        default=[],
        type=_secret,
        metavar="whsec_...",
        help="secret of the webhook URL in the same position (default: the demo secret)",
    )
    parser.add_argument(
        "--speed", type=_non_negative, default=1.0, help="latency factor; 0 = instant"
    )
    parser.add_argument(
        "--webhook-speed",
        type=_non_negative,
        default=1.0,
        help="factor on the 0/1/4/16/60 s retries",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for ids and media")
    parser.add_argument("--plan", choices=PLANS, default="pro")
    parser.add_argument("--balance", type=_amount, default=Decimal("100.000"), help="credits (USD)")
    parser.add_argument(
        "--region",
        dest="regions",
        action="append",
        choices=REGIONS,
        help="region served (default us); repeat to serve several on consecutive ports",
    )
    parser.add_argument("--rate-limit", type=_positive_int, default=60, help="requests per minute")
    parser.add_argument(
        "--concurrency",
        type=_caps,
        default=None,
        metavar="IMAGE,VIDEO",
        help="in-flight generations allowed per account (default: the plan's caps)",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="origin written into output URLs when clients reach the sandbox by another name",
    )
    parser.add_argument(
        "--fault",
        dest="faults",
        action="append",
        default=[],
        choices=sorted(PROFILES),
        help="fault profile to apply from the start, repeatable",
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One readable line on stderr and exit status 2 (no usage block)."""
        self.exit(2, f"{self.prog}: error: {message}\n")


class Out(Protocol):
    def write(self, text: str, /) -> object: ...


def build_parser(prog: str | None = "python -m django_babysea.sandbox") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="Run a local, stateful stand-in of the BabySea API.")
    add_arguments(parser)
    return parser


def build_sandboxes(options: argparse.Namespace | dict[str, Any]) -> list[Sandbox]:
    """One :class:`Sandbox` per region (sharing keys); raises ValueError on bad combinations."""
    from django_babysea.sandbox.app import Sandbox
    from django_babysea.sandbox.state.accounts import default_key_specs

    opts = vars(options) if isinstance(options, argparse.Namespace) else dict(options)
    urls, secrets = opts.get("webhook_urls") or [], opts.get("webhook_secrets") or []
    if len(secrets) > len(urls):
        raise ValueError("more --webhook-secret than --webhook-url options")
    hooks = [
        (url, secrets[i] if i < len(secrets) else DEMO_WEBHOOK_SECRET) for i, url in enumerate(urls)
    ]
    regions = list(dict.fromkeys(opts.get("regions") or ["us"]))
    common = {
        "speed": opts.get("speed", 1.0),
        "webhook_speed": opts.get("webhook_speed", 1.0),
        "seed": opts.get("seed"),
        "host": opts.get("host", "127.0.0.1"),
        "plan": opts.get("plan", "pro"),
        "balance": opts.get("balance", Decimal("100.000")),
        "rate_limit": opts.get("rate_limit", 60),
        "concurrency": opts.get("concurrency"),
    }
    port = opts.get("port", DEFAULT_PORT)
    keys = [
        replace(spec, region=spec.region or regions[0])
        for spec in default_key_specs(opts.get("api_keys"))
    ]
    first = Sandbox(
        keys, hooks, region=regions[0], port=port, public_url=opts.get("public_url"), **common
    )
    sandboxes = [first]
    for offset, region in enumerate(regions[1:], start=1):
        sandboxes.append(
            Sandbox(
                first.config.keys,
                hooks,
                region=region,
                port=port + offset if port else 0,
                key_registry=first.registry,
                **common,
            )
        )
    return sandboxes


def describe(sandbox: Sandbox) -> str:
    keys = [
        k
        for k in sandbox.config.keys
        if (k.region or sandbox.config.region) == sandbox.config.region
    ]
    shown = ", ".join(f"{k.key[:9]}... ({k.preset})" for k in keys) or "none"
    hooks = len(sandbox.config.webhooks)
    return (
        f"BabySea sandbox [{sandbox.config.region}] on {sandbox.url} - keys: {shown}; "
        f"webhook endpoints: {hooks}; Ctrl-C to stop"
    )


def serve_forever(sandboxes: list[Sandbox], faults: Sequence[str], out: Out) -> None:
    """Start every listener, print one line each, block until Ctrl-C or SIGTERM, stop cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        for sandbox in sandboxes:
            sandbox.start()
            for profile in faults:
                sandbox.inject(profile)
            out.write(describe(sandbox) + "\n")
            flush = getattr(out, "flush", None)
            if callable(flush):
                flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sandbox in sandboxes:
            sandbox.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    try:
        require_extra()
    except MissingExtra as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    try:
        sandboxes = build_sandboxes(options)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        serve_forever(sandboxes, options.faults, sys.stdout)
    except OSError as exc:
        parser.error(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}")
    print("BabySea sandbox stopped.", flush=True)
    return 0
