"""The API request pipeline: edge 403, faults, gates in the documented order, envelopes, logs."""

from __future__ import annotations

import logging
from typing import Any

from django_babysea.sandbox.contract.errors import ApiError
from django_babysea.sandbox.faults.injection import REQUEST_KINDS, Fault
from django_babysea.sandbox.http.envelopes import Request, Response, error_response, text_response
from django_babysea.sandbox.http.routes import Route, match
from django_babysea.sandbox.state.clock import iso
from django_babysea.sandbox.state.records import RequestLog
from django_babysea.sandbox.state.region import Caller, Region

__all__ = ["handle_api"]

logger = logging.getLogger("django_babysea.sandbox")

#: Request bodies kept in the ``received()`` log are cut at this many bytes.
RECEIVED_BODY_LIMIT = 64 * 1024

_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


def forbidden() -> Response:
    """The edge firewall's answer to a path or method outside the schema (section 10 #30)."""
    return text_response(403, "Forbidden")


def _fault_response(region: Region, fault: Fault) -> Response | None:
    """Faults that replace the response entirely; None for those applied around handling."""
    kind = fault.kind
    if kind == "drop":
        return Response(0, drop=True)
    if kind == "timeout":
        return Response(0, drop=True, delay=fault.seconds or 40.0)
    if kind == "bad_gateway_html":
        return text_response(502, _BAD_GATEWAY_HTML, "text/html")
    codes = {"server_error": "BSE5001", "service_unavailable": "BSE5002"}
    if kind in codes:
        return error_response(region.ids, ApiError(codes[kind]))
    if kind == "rate_limited":
        retry = str(fault.retry_after)
        error = ApiError(
            "BSE1005",
            details={"retry_after_seconds": fault.retry_after, "limit": region.rate.limit},
            headers={"Retry-After": retry},
        )
        return error_response(region.ids, error)
    if kind == "http_error":
        code = fault.code or ("BSE5001" if (fault.status or 500) >= 500 else "BSE2001")
        return error_response(region.ids, ApiError(code, status=fault.status))
    return None


def _authorize(region: Region, route: Route, caller: Caller) -> None:
    """Scope (1003), then the account's rate limit (1005); both answers carry X-RateLimit-*."""
    now = region.clock.now()
    account_id = caller.account.account_id
    if route.scope not in caller.key.scopes:
        caller.rate_headers = region.rate.peek(account_id, now)
        raise ApiError(
            "BSE1003",
            f"This API key ({caller.key.spec.preset}) lacks the {route.scope} scope.",
            details={"required_scope": route.scope},
        )
    try:
        caller.rate_headers = region.rate.hit(account_id, now)
    except ApiError as error:
        caller.rate_headers = dict(error.headers)
        raise


def _dispatch(region: Region, route: Route, request: Request, params: dict[str, str]) -> Response:
    """Gates in the order of section 2.7: auth, IP, scope, rate limit, then the operation."""
    caller: Caller | None = None
    try:
        key, account = region.authenticate(request.headers, request.client_ip)
        caller = Caller(key, account, {})
        _authorize(region, route, caller)
        response = route.handler(region, caller, request, params)
    except ApiError as error:
        response = error_response(region.ids, error)
    except Exception:
        logger.exception("sandbox handler failed for %s %s", request.method, request.path)
        response = error_response(region.ids, ApiError("BSE5001"))
    if caller is not None:
        for name, value in caller.rate_headers.items():
            response.headers.setdefault(name, value)
        _log_usage(region, caller, route, response)
    return response


def _log_usage(region: Region, caller: Caller, route: Route, response: Response) -> None:
    entry = RequestLog(
        region.clock.now(), caller.account.name, route.group, response.status, response.code
    )
    with region.store.lock:
        region.store.request_logs.append(entry)


def handle_api(region: Region, request: Request) -> Response:
    """Answer one ``/v1`` request (or the edge 403) and record it in ``received()``."""
    found = match(request.method, request.path)
    if found is None:
        response = forbidden()
    else:
        route, params = found
        fault = region.faults.take(REQUEST_KINDS, method=request.method, path=request.path)
        replaced = _fault_response(region, fault) if fault is not None else None
        if replaced is not None:
            response = replaced
        else:
            if fault is not None and fault.kind == "slow":
                request.processing_delay = fault.seconds or 0.0
            response = _dispatch(region, route, request, params)
            _apply_after(fault, request, response)
    _record(region, request, response)
    return response


def _apply_after(fault: Fault | None, request: Request, response: Response) -> None:
    if fault is None:
        return
    if fault.kind == "slow":
        response.delay = request.processing_delay  # what the handler did not spend already
    elif fault.kind == "slow_body":
        response.trickle = fault.seconds or 0.0
    elif fault.kind == "crash_after_commit":
        response.drop = True


def _record(region: Region, request: Request, response: Response) -> None:
    headers = _headers(request)
    body: Any = None
    if request.body:
        body = request.body[:RECEIVED_BODY_LIMIT].decode("utf-8", "replace")
    entry = {
        "at": iso(region.clock.now()),
        "method": request.method,
        "path": request.target,
        "headers": headers,
        "body": body,
        "status": None if response.drop else response.status,
        "dropped": response.drop,
        "code": response.code,
        "request_id": response.request_id,
        "replayed": response.headers.get("Idempotency-Replayed") == "true",
    }
    with region.store.lock:
        region.store.received.append(entry)


def _headers(request: Request) -> dict[str, str]:
    items: Any = getattr(request.headers, "items", None)
    pairs = items() if callable(items) else []
    return {k: v for k, v in pairs if k.lower() != "authorization"}
