"""Unit tests of the download layer: format sniffing, the source policy and the fetch loop
(against httpx's mock transport, which shows what would go on the wire)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from django_babysea.downloads import DownloadError, Limits, Reason, SourcePolicy, fetch, sniff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 64
LIMITS = Limits(max_bytes=10_000, timeout=5, deadline=60)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, ("image/png", "png")),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, ("image/jpeg", "jpg")),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8, ("image/webp", "webp")),
        (b"GIF89a" + b"\x00" * 20, ("image/gif", "gif")),
        (MP4, ("video/mp4", "mp4")),
        (b"\x00\x00\x00\x1cftypavif" + b"\x00" * 8, ("image/avif", "avif")),
        (b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 8, ("video/quicktime", "mov")),
        (b"\x1a\x45\xdf\xa3" + b"\x00" * 20, ("video/webm", "webm")),
    ],
)
def test_sniff_recognises_formats(head: bytes, expected: tuple[str, str]) -> None:
    assert tuple(sniff(head) or ()) == expected


@pytest.mark.parametrize("head", [b"<!doctype html>", b"%PDF-1.7\n", b"", b"RIFF0000WAVE"])
def test_sniff_refuses_the_rest(head: bytes) -> None:
    assert sniff(head) is None


def public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def test_policy_pins_the_checked_address() -> None:
    policy = SourcePolicy.build(["cdn.us.babysea.ai"], resolver=public)
    target = policy.check("https://cdn.us.babysea.ai/files/a/output-0.png?sig=1")
    assert target.request_url == "https://93.184.216.34/files/a/output-0.png?sig=1"
    assert (target.host_header, target.sni_hostname) == ("cdn.us.babysea.ai", "cdn.us.babysea.ai")
    ported = policy.check("https://cdn.us.babysea.ai:8443/x.png")
    assert ported.request_url == "https://93.184.216.34:8443/x.png"
    assert ported.host_header == "cdn.us.babysea.ai:8443"


def test_policy_wildcards_and_trusted_origins() -> None:
    policy = SourcePolicy.build(
        ["*.babysea.ai", "Media.Example.com."],
        trusted=["http://127.0.0.1:8765", None],
        resolver=public,
    )
    assert policy.host_allowed("cdn.eu.babysea.ai")
    assert policy.host_allowed("media.example.com")
    assert not policy.host_allowed("babysea.ai.evil.com")
    assert not policy.host_allowed("evilbabysea.ai")
    trusted = policy.check("http://127.0.0.1:8765/files/x/output-0.png")
    assert trusted.request_url == "http://127.0.0.1:8765/files/x/output-0.png"
    assert trusted.host_header is None
    with pytest.raises(DownloadError) as refused:
        policy.check("http://127.0.0.1:8766/files/x/output-0.png")
    assert refused.value.reason == Reason.INSECURE_SCHEME


def test_policy_refuses_a_host_with_any_private_address() -> None:
    policy = SourcePolicy.build(
        ["cdn.us.babysea.ai"], resolver=lambda h, p: ["93.184.216.34", "10.0.0.7"]
    )
    with pytest.raises(DownloadError) as refused:
        policy.check("https://cdn.us.babysea.ai/x.png")
    assert (refused.value.reason, "10.0.0.7" in refused.value.message) == (
        Reason.PRIVATE_ADDRESS,
        True,
    )


def resolving_to(address: str) -> SourcePolicy:
    return SourcePolicy.build(["cdn.us.babysea.ai"], resolver=lambda h, p: [address])


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64 (RFC 6052)
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("64:ff9b::192.168.1.1", "192.168.1.1"),
        ("64:ff9b:1::a00:1", "10.0.0.1"),  # local-use NAT64 (RFC 8215), /96 layout
        # 127.0.0.1 in the /48 layout: the /96 layout reads 8.8.8.8, the /64 one 0.1.0.8.
        ("64:ff9b:1:7f00:0:100:808:808", "0.1.0.8"),
        ("2002:a00:1::", "10.0.0.1"),  # 6to4
        ("2002:7f00:1:1::1", "127.0.0.1"),
        ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible
        ("::a00:1", "10.0.0.1"),
        ("::ffff:10.0.0.1", "10.0.0.1"),  # IPv4-mapped
        ("::ffff:0:a9fe:a9fe", "169.254.169.254"),  # IPv4-translated (SIIT)
    ],
)
def test_policy_judges_ipv6_by_the_ipv4_address_it_embeds(address: str, embedded: str) -> None:
    with pytest.raises(DownloadError) as refused:
        resolving_to(address).check("https://cdn.us.babysea.ai/x.png")
    assert refused.value.reason == Reason.PRIVATE_ADDRESS
    assert f"({address}, which embeds {embedded})" in refused.value.message


@pytest.mark.parametrize(
    "address", ["64:ff9b::808:808", "64:ff9b::5db8:d822", "2002:808:808::1", "::ffff:8.8.8.8"]
)
def test_policy_allows_ipv6_embedding_a_public_ipv4_address(address: str) -> None:
    target = resolving_to(address).check("https://cdn.us.babysea.ai/x.png")
    assert target.request_url == f"https://[{address}]/x.png"


def test_policy_reports_resolution_failures() -> None:
    def broken(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(DownloadError) as refused:
        SourcePolicy.build(["cdn.us.babysea.ai"], resolver=broken).check(
            "https://cdn.us.babysea.ai/a"
        )
    assert refused.value.reason == Reason.CONNECT_FAILED


def client_for(handler: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(transport=handler, follow_redirects=False)


def test_fetch_connects_to_the_address_and_names_the_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, stream=httpx.ByteStream(PNG), headers={"Content-Type": "image/png"}
        )

    dest = io.BytesIO()
    policy = SourcePolicy.build(["cdn.us.babysea.ai"], resolver=public)
    with client_for(httpx.MockTransport(handler)) as client:
        result = fetch(
            "https://cdn.us.babysea.ai/o.png", dest, policy=policy, limits=LIMITS, client=client
        )
    assert dest.getvalue() == PNG
    assert (result.size, result.format.ext, result.url) == (
        len(PNG),
        "png",
        "https://cdn.us.babysea.ai/o.png",
    )
    request = seen[0]
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "cdn.us.babysea.ai"
    assert request.extensions["sni_hostname"] == "cdn.us.babysea.ai"


def test_fetch_follows_same_host_redirects_with_the_pin() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old.mp4":
            return httpx.Response(301, headers={"Location": "/new.mp4"})
        assert request.headers["host"] == "cdn.us.babysea.ai"
        return httpx.Response(
            200, stream=httpx.ByteStream(MP4), headers={"Content-Type": "video/mp4"}
        )

    policy = SourcePolicy.build(["cdn.us.babysea.ai"], resolver=public)
    with client_for(httpx.MockTransport(handler)) as client:
        result = fetch(
            "https://cdn.us.babysea.ai/old.mp4",
            io.BytesIO(),
            policy=policy,
            limits=LIMITS,
            client=client,
        )
    assert result.url == "https://cdn.us.babysea.ai/new.mp4"


def refusal(
    handler: Callable[[httpx.Request], httpx.Response], limits: Limits = LIMITS
) -> DownloadError:
    """The error ``fetch`` raises for a CDN file that ``handler`` serves."""
    policy = SourcePolicy.build(["cdn.us.babysea.ai"], resolver=public)
    with (
        client_for(httpx.MockTransport(handler)) as client,
        pytest.raises(DownloadError) as refused,
    ):
        fetch(
            "https://cdn.us.babysea.ai/o.png",
            io.BytesIO(),
            policy=policy,
            limits=limits,
            client=client,
        )
    return refused.value


def test_fetch_refuses_encoded_bodies() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "image/png", "Content-Encoding": "gzip"}
        return httpx.Response(200, content=b"\x1f\x8b", headers=headers)

    assert refusal(handler).reason == Reason.BAD_CONTENT_TYPE


def test_fetch_enforces_the_whole_transfer_deadline() -> None:
    # Each chunk arrives well within the read timeout, but the transfer as a whole drags on.
    def trickle() -> Iterator[bytes]:
        yield PNG
        for _ in range(50):
            time.sleep(0.02)
            yield b"\x00" * 10

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=trickle(), headers={"Content-Type": "image/png"})

    refused = refusal(handler, Limits(max_bytes=10_000, timeout=5, deadline=0.1))
    assert refused.reason == Reason.TIMEOUT
    assert "longer than 0.1s" in refused.message
