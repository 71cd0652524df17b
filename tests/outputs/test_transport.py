"""The download transport over real TLS: it connects to the pinned address and verifies the
certificate for the host name, and the sink hashes exactly what it writes."""

from __future__ import annotations

import datetime
import hashlib
import io
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from django_babysea.downloads.sink import Sink
from django_babysea.downloads.transport import DownloadTransport

HOST = "cdn.babysea.test"
BODY = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4096  # ~1 MiB: several transport blocks


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Handler(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hosts.append(self.headers["Host"])
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert
    server.shutdown()
    server.server_close()


def client(cert: Path) -> httpx.Client:
    return httpx.Client(
        transport=DownloadTransport(verify=ssl.create_default_context(cafile=str(cert))),
        timeout=5,
    )


def test_pinned_address_with_the_host_names_certificate(tls_server: tuple[int, Path]) -> None:
    port, cert = tls_server
    with client(cert) as http:
        response = http.get(
            f"https://127.0.0.1:{port}/output-0.png",
            headers={"Host": f"{HOST}:{port}"},
            extensions={"sni_hostname": HOST},
        )
    assert (response.status_code, response.content) == (200, BODY)
    assert response.headers["content-type"] == "image/png"
    assert Handler.hosts[-1] == f"{HOST}:{port}"


def test_a_certificate_for_another_name_is_refused(tls_server: tuple[int, Path]) -> None:
    port, cert = tls_server
    with client(cert) as http, pytest.raises(httpx.ConnectError, match="certificate"):
        http.get(f"https://127.0.0.1:{port}/output-0.png", extensions={"sni_hostname": "evil.test"})


def test_an_unknown_authority_is_refused(tls_server: tuple[int, Path]) -> None:
    port, _ = tls_server
    with (
        httpx.Client(transport=DownloadTransport(), timeout=5) as http,
        pytest.raises(httpx.ConnectError),
    ):
        http.get(f"https://127.0.0.1:{port}/output-0.png", extensions={"sni_hostname": HOST})


def test_only_downloads() -> None:
    with (
        httpx.Client(transport=DownloadTransport()) as http,
        pytest.raises(httpx.UnsupportedProtocol),
    ):
        http.post("http://127.0.0.1:9/")


def test_the_sink_hashes_what_it_writes() -> None:
    dest = io.BytesIO()
    sink = Sink(dest)
    blocks = [bytes([n]) * (1000 + n) for n in range(50)]
    for block in blocks:
        sink.write(block)
    assert sink.hexdigest() == hashlib.sha256(b"".join(blocks)).hexdigest()
    assert dest.getvalue() == b"".join(blocks)
    abandoned = Sink(io.BytesIO())
    for block in blocks:
        abandoned.write(block)
    abandoned.abandon()
    abandoned.abandon()  # idempotent, never blocks
