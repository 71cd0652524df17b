"""The receiver's own faults: a locked or unavailable database answers 503 (BabySea retries),
never an unhandled exception; secrets stay off Django's debug page; bodies are read to the
limit and no further."""

from __future__ import annotations

import io
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, cast

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection, models, transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.views.debug import ExceptionReporter

from django_babysea.client import webhooks as signatures
from django_babysea.models import DeliveryState, Generation, WebhookDelivery
from django_babysea.views import MAX_BODY_BYTES, WebhookView

from .helpers import WEBHOOK_PATH, encode, secret, signed_headers, webhook_payload

Post = Callable[..., Any]
OTHER_SECRET = "whsec_rotated_in_secret_0000000001"


@contextmanager
def table_locked(model: type[models.Model]) -> Iterator[None]:
    """Another connection holds a lock on ``model``'s table so that this connection's writes
    to it fail: at once on SQLite (a shared-cache table lock), after a short lock_timeout on
    PostgreSQL. Reads still work."""
    table = connection.ops.quote_name(model._meta.db_table)
    postgres = connection.vendor == "postgresql"
    ready, release = threading.Event(), threading.Event()
    problems: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if postgres:
                    cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
                else:
                    cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a model's table  # noqa: S608 - a model table
                    cursor.fetchall()
                ready.set()
                release.wait(30)
        except BaseException as exc:  # reported by the test, not lost in the thread
            problems.append(exc)
            ready.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert ready.wait(10)
    assert not problems, problems
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
    try:
        yield
    finally:
        release.set()
        holder.join()
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
def test_locked_database_while_storing_answers_503_and_writes_nothing(
    post_webhook: Post,
    make_generation: Callable[..., Generation],
    caplog: pytest.LogCaptureFixture,
) -> None:
    remote_id = uuid.uuid4()
    make_generation(remote_id)
    payload = webhook_payload("generation.completed", remote_id)
    with table_locked(WebhookDelivery), caplog.at_level(logging.ERROR):
        response = post_webhook(payload)
    assert response.status_code == 503
    assert response.json() == {"ok": False, "error": "temporarily unavailable"}
    assert "Storing webhook delivery" in caplog.text
    assert "OperationalError" in caplog.text
    assert not WebhookDelivery.objects.exists()
    # BabySea's retry, once the lock is gone, is stored and applied.
    assert post_webhook(payload).json() == {"ok": True, "state": "processed"}
    assert Generation.objects.get().status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_locked_database_while_applying_answers_503_and_keeps_the_row(
    post_webhook: Post,
    make_generation: Callable[..., Generation],
    caplog: pytest.LogCaptureFixture,
) -> None:
    remote_id = uuid.uuid4()
    make_generation(remote_id)
    payload = webhook_payload("generation.completed", remote_id)
    with table_locked(Generation), caplog.at_level(logging.ERROR):
        response = post_webhook(payload)
    assert response.status_code == 503
    assert response.json() == {"ok": False, "error": "temporarily unavailable"}
    assert "transient fault" in caplog.text
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "OperationalError" in delivery.error
    assert Generation.objects.get().status == "created"

    assert post_webhook(payload).json() == {"ok": True, "state": "processed"}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.error) == ("processed", 2, "")
    assert Generation.objects.get().status == "succeeded"


# -- secrets on Django's debug page ----------------------------------------------------------


@pytest.fixture
def debug_client() -> Iterator[Client]:
    """DEBUG on, two secrets configured, and unhandled errors rendered as Django's technical
    500 page (with every frame's local variables) instead of raised into the test."""
    secrets = {"WEBHOOK_SECRETS": [secret(), OTHER_SECRET]}
    with override_settings(DEBUG=True, BABYSEA=secrets):
        yield Client(raise_request_exception=False)


def _post(client: Client, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(WEBHOOK_PATH, data=body, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_error_inside_the_signature_check_shows_no_secret_on_the_debug_page(
    debug_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(secret: str, body: bytes | str, timestamp: int) -> str:
        raise RuntimeError("hmac is broken")

    body = encode(webhook_payload("webhook.test"))
    headers = signed_headers(body)
    monkeypatch.setattr(signatures, "compute_signature", broken)
    response = _post(debug_client, body, headers)
    assert response.status_code == 500
    page = response.content.decode()
    assert secret() not in page
    assert OTHER_SECRET not in page
    assert "failed unexpectedly" in page
    assert "Local vars" in page
    assert "WEBHOOK_SECRETS" in page  # the settings are listed, cleansed
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_error_report_of_a_failed_check_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With DEBUG off, the logged error may be mailed as a full report (AdminEmailHandler):
    no frame under the view shows its variables there."""

    def broken(secret: str, body: bytes | str, timestamp: int) -> str:
        raise RuntimeError("hmac is broken")

    body = encode(webhook_payload("webhook.test"))
    headers = signed_headers(body)
    monkeypatch.setattr(signatures, "compute_signature", broken)
    client = Client(raise_request_exception=False)
    with override_settings(BABYSEA={"WEBHOOK_SECRETS": [secret(), OTHER_SECRET]}):
        with caplog.at_level(logging.ERROR):
            assert _post(client, body, headers).status_code == 500
        record = next(r for r in caplog.records if r.name == "django_babysea.views")
        assert record.exc_info is not None
        exc_type, exc_value, traceback = record.exc_info
        report = ExceptionReporter(None, exc_type, exc_value, traceback, is_email=True)
        html = report.get_traceback_html()
    assert "hmac is broken" in html
    assert "in verify" in html
    assert "********************" in html
    assert secret() not in html
    assert OTHER_SECRET not in html


@pytest.mark.django_db
@pytest.mark.parametrize("t_value", ["9" * 400, "-1" + "0" * 400])
def test_timestamp_of_hundreds_of_digits_is_a_400_not_a_debug_page(
    debug_client: Client, t_value: str
) -> None:
    body = encode(webhook_payload("webhook.test"))
    v1 = signatures.compute_signature(secret(), body, 1)
    response = _post(debug_client, body, {signatures.SIGNATURE_HEADER: f"t={t_value},v1={v1}"})
    assert response.status_code == 400
    assert response.content == b"Invalid webhook signature (bad_timestamp).\n"
    assert secret() not in response.content.decode()


# -- reading the body --------------------------------------------------------------------------


class EndlessBody(io.RawIOBase):
    """A request stream of ``size`` bytes that counts how many of them were read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.served)
        buffer[:count] = b"x" * count
        self.served += count
        return count


OVERSIZED = 8 * MAX_BODY_BYTES


@pytest.mark.django_db
@pytest.mark.parametrize("django_limit", [2621440, None], ids=["django-limit", "no-django-limit"])
def test_chunked_body_without_length_is_read_only_past_the_limit(
    django_limit: int | None,
) -> None:
    """An ASGI server passes a chunked body with no Content-Length: read the limit plus one
    byte, never the whole body (however DATA_UPLOAD_MAX_MEMORY_SIZE is set)."""
    stream = EndlessBody(OVERSIZED)
    headers = [(b"x-babysea-signature", signatures.sign(secret(), b"{}").encode())]
    scope = {"type": "http", "method": "POST", "path": WEBHOOK_PATH, "headers": headers}
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=django_limit):
        response = WebhookView.as_view()(ASGIRequest(scope, cast(IO[bytes], stream)))
    assert isinstance(response, HttpResponse)
    assert response.status_code == 400
    assert response.content == b"Request body is too large.\n"
    assert stream.served <= MAX_BODY_BYTES + 1
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_wsgi_input_without_content_length_is_not_read_past_the_limit() -> None:
    stream = EndlessBody(OVERSIZED)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": WEBHOOK_PATH,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": stream,
        "wsgi.url_scheme": "http",
        "HTTP_X_BABYSEA_SIGNATURE": signatures.sign(secret(), b""),
    }
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=None):
        response = WebhookView.as_view()(WSGIRequest(environ))
    assert isinstance(response, HttpResponse)
    # WSGI without Content-Length means no body: the signed empty body is not JSON.
    assert response.status_code == 400
    assert response.content == b"Body is not JSON.\n"
    assert stream.served <= MAX_BODY_BYTES + 1
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_body_of_exactly_the_limit_is_read_whole() -> None:
    payload = webhook_payload("webhook.test")
    body = encode(payload)
    body = body[:-1] + b',"padding":"' + b"x" * (MAX_BODY_BYTES - len(body) - 13) + b'"}'
    assert len(body) == MAX_BODY_BYTES
    headers = [(b"x-babysea-signature", signatures.sign(secret(), body).encode())]
    scope = {"type": "http", "method": "POST", "path": WEBHOOK_PATH, "headers": headers}
    response = WebhookView.as_view()(ASGIRequest(scope, io.BytesIO(body)))
    assert isinstance(response, HttpResponse)
    assert response.status_code == 200, response.content
    assert WebhookDelivery.objects.get().body.encode() == body
