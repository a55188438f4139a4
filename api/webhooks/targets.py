"""Where webhooks may go, and the one way they are sent there.

A subscriber names the URL, so the server must not become their way into the networks it
can reach (SSRF): only http(s), and the host must resolve to public addresses only. The
check runs when the subscription is made and again at every attempt, and the request goes
to the very address that was checked (pinned), so a name that re-resolves elsewhere between
the check and the connection (DNS rebinding) gets nowhere. Link-local addresses (cloud
metadata services live there), multicast and unspecified ones are refused always; loopback
and private ranges only unless PEACEMAP_WEBHOOKS_ALLOW_PRIVATE allows them (tests, local
development). Redirects are not followed: a 3xx is a failed attempt.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 64 * 1024  # read (and dropped) so the connection ends cleanly
USER_AGENT = "Peacemap-Webhooks/1"


class TargetRefused(ValueError):
    """The URL is not a place webhooks may go; the message is safe to show its owner."""


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return True
    return not address.is_global and not allow_private


def _parts(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("must be an http or https URL.")
    if not parts.hostname:
        raise TargetRefused("must name a host.")
    if parts.username or parts.password:
        raise TargetRefused("must not carry credentials; the signature authenticates us.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("has an invalid port.") from None
    return parts.scheme, parts.hostname, port


def resolve(url: str, *, allow_private: bool) -> str:
    """The address to send to, or TargetRefused when the host resolves to none or to any
    address webhooks may not reach (one bad address refuses the name)."""
    _, host, port = _parts(url)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"host {host!r} does not resolve.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    if not addresses:
        raise TargetRefused(f"host {host!r} does not resolve.")
    if any(_refused(address, allow_private) for address in addresses):
        raise TargetRefused(
            "must resolve to public addresses only (not loopback, private or link-local)."
        )
    return str(addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Outcome:
    status: int | None  # None: no HTTP answer
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(
    url: str, body: bytes, headers: dict[str, str], *, allow_private: bool, timeout: float
) -> Outcome:
    """POST ``body`` to ``url`` at a checked address; never raises for the receiver's faults."""
    started = time.monotonic()

    def outcome(status: int | None, error: str | None) -> Outcome:
        return Outcome(status, error, round((time.monotonic() - started) * 1000))

    try:
        address = resolve(url, allow_private=allow_private)
    except TargetRefused as refused:
        return outcome(None, f"refused: {refused}"[:200])
    scheme, host, port = _parts(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = kind(host, port, address, timeout)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return outcome(response.status, None)
    except (OSError, http.client.HTTPException) as error:
        # The kind only: the receiver's words are theirs, not ours to store.
        return outcome(None, type(error).__name__)
    finally:
        connection.close()
