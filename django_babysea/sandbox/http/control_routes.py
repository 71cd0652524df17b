"""The ``/_sandbox/`` HTTP routes over :class:`Driver` (JSON in, JSON out, loopback only).

A request must come from a loopback address, name the sandbox itself in ``Host`` and carry no
foreign ``Origin``: a web page the developer visits can reach a loopback port too, by DNS
rebinding (its own name resolved to 127.0.0.1) or a cross-site form post.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

from django_babysea.sandbox.control import Driver, parse_body
from django_babysea.sandbox.http.envelopes import Request, Response, json_response
from django_babysea.sandbox.state.accounts import KeySpec

__all__ = ["handle_control"]

Action = Callable[[Driver, dict[str, Any], dict[str, str]], tuple[int, Any]]
_ID: Final = r"(?P<id>[0-9A-Za-z_-]+)"


def _need(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        raise ValueError(f"the body needs {name!r}")
    return body[name]


def _advance(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    generation_id, to = _need(body, "generation_id"), _need(body, "to")
    return 200, {"generation": d.advance(generation_id, to, body.get("error_code"))}


def _add_faults(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    specs = body["faults"] if isinstance(body.get("faults"), list) else [body]
    added = [f.to_dict() for spec in specs for f in d.inject(spec)]
    return 201, {"faults": added}


def _clear_faults(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    d.region.faults.clear()
    return 200, {"faults": []}


def _add_webhook(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    kwargs = {k: body[k] for k in ("secret", "events", "account") if k in body}
    return 201, {"webhook": d.add_webhook(_need(body, "url"), **kwargs).describe()}


def _webhooks(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    return 200, {"webhooks": [e.describe() for e in d.region.dispatcher.endpoints.values()]}


def _test_webhook(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    sent = d.send_test_webhook(body.get("endpoint_id"), body.get("account", "default"))
    return 202, {"sent": sent}


def _enable(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    return 200, {"webhook": d.region.dispatcher.enable(p["id"]).describe()}


def _rotate(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    return 200, {"webhook": d.region.dispatcher.rotate(p["id"], _need(body, "secret")).describe()}


def _drain(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    return 202, {"sent": d.region.dispatcher.drain(p["id"])}


def _replay(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    return 202, {"delivery_id": d.region.dispatcher.replay(p["id"])}


def _balance(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    account = body.get("account", "default")
    if "balance" in body:
        d.set_balance(body["balance"], account)
    return 200, {"account": account, "balance": float(d.balance(account))}


def _generation(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    found = d.generation(p["id"])
    return (200, {"generation": found}) if found else (404, {"error": "no such generation"})


def _add_key(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    fields = ("key", "preset", "region", "account", "name", "allowed_ips", "expires_at", "revoked")
    kwargs = {k: body[k] for k in fields if k in body}
    if "allowed_ips" in kwargs:
        kwargs["allowed_ips"] = tuple(kwargs["allowed_ips"])
    return 201, {"key": d.add_key(KeySpec(**kwargs))}


def _reset(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    d.reset()
    return 200, {"reset": True}


def _seed(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    kwargs = {k: body[k] for k in ("account", "model") if k in body}
    return 201, {"seeded": d.seed(_need(body, "count"), **kwargs)}


def _tick(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    return 200, {"transitions": d.tick()}


def _idle(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    d.run_until_idle(float(body.get("timeout", 10.0)))
    return 200, {"idle": True}


def _travel(d: Driver, body: dict[str, Any], p: dict[str, str]) -> tuple[int, Any]:
    d.travel(float(_need(body, "seconds")))
    return 200, d.info()


ROUTES: Final[list[tuple[str, re.Pattern[str], Action]]] = [
    (m, re.compile(f"^/_sandbox{path}$"), action)
    for m, path, action in [
        ("GET", "/?", lambda d, b, p: (200, d.info())),
        ("POST", "/advance", _advance),
        ("GET", "/faults", lambda d, b, p: (200, {"faults": d.region.faults.list()})),
        ("POST", "/faults", _add_faults),
        ("DELETE", "/faults", _clear_faults),
        ("GET", "/webhooks", _webhooks),
        ("POST", "/webhooks", _add_webhook),
        ("POST", "/webhooks/test", _test_webhook),
        ("POST", f"/webhooks/{_ID}/enable", _enable),
        ("POST", f"/webhooks/{_ID}/drain", _drain),
        ("POST", f"/webhooks/{_ID}/rotate", _rotate),
        ("GET", "/requests", lambda d, b, p: (200, {"requests": d.received()})),
        ("GET", "/deliveries", lambda d, b, p: (200, {"deliveries": d.deliveries()})),
        ("POST", f"/deliveries/{_ID}/replay", _replay),
        ("POST", "/reset", _reset),
        ("POST", "/seed", _seed),
        ("GET", f"/generations/{_ID}", _generation),
        ("GET", "/balance", _balance),
        ("POST", "/balance", _balance),
        ("POST", "/keys", _add_key),
        ("POST", "/tick", _tick),
        ("POST", "/run-until-idle", _idle),
        ("POST", "/travel", _travel),
    ]
]


LOOPBACK_NAMES: Final = ("127.0.0.1", "localhost", "[::1]")


def _loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip.removeprefix("::ffff:")).is_loopback
    except ValueError:
        return False


def _own_hosts(driver: Driver, request: Request) -> set[str]:
    """The ``Host`` values that name this sandbox: its loopback names and the address the
    client connected to, with the port it listens on, and the host of its public URL."""
    hosts = set()
    if request.local_address is not None:
        address, port = request.local_address
        literal = f"[{address}]" if ":" in address else address
        for name in (*LOOPBACK_NAMES, literal):
            hosts.add(f"{name}:{port}")
            if port == 80:
                hosts.add(name)
    public = urlsplit(driver.region.base_url)
    if public.netloc:
        hosts.add(public.netloc.lower())
    return hosts


def _refusal(driver: Driver, request: Request) -> str | None:
    if not _loopback(request.client_ip):
        return "the sandbox control API answers loopback clients only"
    hosts = _own_hosts(driver, request)
    host = (request.header("Host") or "").strip().lower()
    if host not in hosts:
        return f"the Host header {host[:100]!r} does not name this sandbox"
    origin = request.header("Origin")
    public = urlsplit(driver.region.base_url)
    origins = {f"http://{h}" for h in hosts} | {f"{public.scheme}://{public.netloc}".lower()}
    if origin is not None and origin.strip().lower() not in origins:
        return f"requests from the web page at Origin {origin[:100]!r} are refused"
    return None


def handle_control(driver: Driver, request: Request) -> Response:
    refused = _refusal(driver, request)
    if refused is not None:
        return json_response(403, {"error": refused})
    for method, pattern, action in ROUTES:
        found = pattern.match(request.path)
        if found is None or method != request.method:
            continue
        try:
            status, payload = action(driver, parse_body(request.body), found.groupdict())
        except KeyError as exc:
            status, payload = 404, {"error": f"not found: {exc.args[0] if exc.args else exc}"}
        except (ValueError, TypeError) as exc:
            status, payload = 400, {"error": str(exc)}
        except TimeoutError as exc:
            status, payload = 504, {"error": str(exc)}
        return json_response(status, payload if isinstance(payload, dict) else {"result": payload})
    return json_response(
        404, {"error": f"no sandbox control route {request.method} {request.path}"}
    )
