"""Where output files may come from: the guard against server-side request forgery.

An output URL reaches us from BabySea's API or a webhook, so it is checked like any other input
before a connection is made:

- the host must be listed in ``allowed_hosts`` (exact names, or ``*.example.com`` for
  subdomains), and the scheme must be https;
- every address the host resolves to must be a public one; the connection then goes to the
  address that was checked (the request keeps the host name for ``Host`` and TLS), so a DNS
  answer that changes between the check and the connection cannot point it elsewhere;
- an origin in ``trusted_origins`` (the sandbox, or a proxy the site already sends its API key
  to) is exempt from the scheme and address rules: it is local by design.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import SplitResult, urlsplit, urlunsplit

from .errors import DownloadError, Reason

__all__ = ["Resolver", "SourcePolicy", "Target", "origin_of", "resolve"]

#: ``resolve(host, port)`` -> the IP addresses a connection to ``host`` could reach.
Resolver = Callable[[str, int], list[str]]

DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of ``url`` (port always written), or None if it has no host."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


@dataclass(frozen=True)
class Target:
    """How to fetch a checked URL: ``request_url`` (the host replaced by the checked address
    for untrusted sources), with ``host_header`` and ``sni_hostname`` naming the real host."""

    url: str
    request_url: str
    host_header: str | None = None
    sni_hostname: str | None = None


#: IPv6 ranges that carry an IPv4 address in their low 32 bits: NAT64 (RFC 6052), SIIT
#: IPv4-translated, IPv4-mapped and IPv4-compatible. Such an address reaches the IPv4 host.
_LOW_32_BITS: Final = tuple(
    ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "::ffff:0:0:0/96", "::ffff:0:0/96", "::/96")
)
_6TO4: Final = ipaddress.IPv6Network("2002::/16")
#: Local-use NAT64 (RFC 8215): the network picks a prefix of /48 to /96 inside it, and so
#: where the IPv4 address sits; every possible position is checked.
_LOCAL_NAT64: Final = ipaddress.IPv6Network("64:ff9b:1::/48")
_LOCAL_NAT64_LENGTHS: Final = (96, 64, 56, 48)


def _rfc6052(ip: ipaddress.IPv6Address, prefix_length: int) -> ipaddress.IPv4Address:
    """The IPv4 address embedded after a ``prefix_length`` NAT64 prefix (bits 64-71 skipped)."""
    bits = f"{int(ip):0128b}"
    bits = bits[:64] + bits[72:]
    start = prefix_length if prefix_length <= 64 else prefix_length - 8
    return ipaddress.IPv4Address(int(bits[start : start + 32], 2))


def _embedded(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses ``ip`` may stand for, or None if it embeds none."""
    if ip in _LOCAL_NAT64:
        return [_rfc6052(ip, length) for length in _LOCAL_NAT64_LENGTHS]
    if ip in _6TO4:
        return [ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)]
    if any(ip in network for network in _LOW_32_BITS):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return None


def _non_public(address: str) -> str | None:
    """None if ``address`` is public; else what makes it not (the address, or the IPv4 address
    it embeds). An IPv6 address that embeds an IPv4 one is judged by that address alone."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and (embedded := _embedded(ip)) is not None:
        for v4 in embedded:
            if not (v4.is_global and not v4.is_multicast):
                return f"{address}, which embeds {v4}"
        return None
    return None if ip.is_global and not ip.is_multicast else address


@dataclass(frozen=True)
class SourcePolicy:
    allowed_hosts: frozenset[str]
    trusted_origins: frozenset[str] = frozenset()
    resolver: Resolver = field(default=resolve, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        hosts: Iterable[str],
        trusted: Iterable[str | None] = (),
        resolver: Resolver = resolve,
    ) -> SourcePolicy:
        origins = frozenset(o for o in (origin_of(u) for u in trusted if u) if o is not None)
        return cls(frozenset(h.lower().rstrip(".") for h in hosts), origins, resolver)

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(
            host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:]))
            for allowed in self.allowed_hosts
        )

    def check(self, url: str) -> Target:
        """The :class:`Target` to fetch ``url`` from; raises :class:`DownloadError` when the
        URL may not be fetched."""
        try:
            parts = urlsplit(url)
            port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            raise DownloadError(Reason.BAD_URL, "The output URL is not a valid URL.") from None
        host = parts.hostname
        if not host or port is None or parts.username or parts.password:
            raise DownloadError(Reason.BAD_URL, "The output URL is not a plain http(s) URL.")
        if origin_of(url) in self.trusted_origins:
            return Target(url=url, request_url=url)
        if parts.scheme != "https":
            raise DownloadError(
                Reason.INSECURE_SCHEME, f"Refused {parts.scheme}:// URL on {host}: https only."
            )
        if not self.host_allowed(host):
            raise DownloadError(
                Reason.HOST_NOT_ALLOWED,
                f"Host {host} is not in BABYSEA['OUTPUT_HOSTS'].",
            )
        return self._pinned(url, parts, host, port)

    def _pinned(self, url: str, parts: SplitResult, host: str, port: int) -> Target:
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise DownloadError(
                Reason.CONNECT_FAILED, f"Could not resolve {host}: {exc.__class__.__name__}."
            ) from None
        if not addresses:
            raise DownloadError(Reason.CONNECT_FAILED, f"{host} has no address.")
        private = [found for found in map(_non_public, addresses) if found is not None]
        if private:
            raise DownloadError(
                Reason.PRIVATE_ADDRESS,
                f"Host {host} resolves to a non-public address ({private[0]}).",
            )
        address = addresses[0]
        netloc_host = f"[{address}]" if ":" in address else address
        netloc = netloc_host if parts.port is None else f"{netloc_host}:{parts.port}"
        return Target(
            url=url,
            request_url=urlunsplit(parts._replace(netloc=netloc)),
            host_header=host if parts.port is None else f"{host}:{parts.port}",
            sni_hostname=host,
        )
