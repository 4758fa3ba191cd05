"""Where a webhook may go: public addresses only, checked when an endpoint is saved and again at
every delivery, and the connection made to the very address that was checked.

A host name is resolved, every address it resolves to is checked (private, loopback, link-local,
multicast, reserved, unspecified, shared and the IPv4 addresses inside IPv6 ones), and the request
connects to the first one with the URL's host name kept for the ``Host`` header and TLS (SNI and
certificate checks). A name that resolves differently between the check and the connection (DNS
rebinding) therefore never reaches a private address. ``WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`` lifts
the refusal (tests and development, with a receiver on 127.0.0.1).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings


class AddressRefused(Exception):
    """The URL may not be called: its words say why (shown on the form and in the delivery log)."""


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and not _public(embedded):
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def parse(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and the path with its query; refuses what is not a plain http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused("The address is not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("The address must start with https:// (or http://) and name a host.")
    if parts.username or parts.password:
        raise AddressRefused("The address must not hold a user name or password.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def checked_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, all checked; refuses the lot if one is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:  # ValueError: a NUL in the name
        raise AddressRefused("The host name could not be resolved.") from exc
    addresses = []
    for info in infos:
        text = info[4][0].split("%", 1)[0]
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise AddressRefused("The host name could not be resolved.")
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        for text in addresses:
            if not _public(ipaddress.ip_address(text)):
                raise AddressRefused("The address is private, local or reserved; webhooks go to public addresses only.")
    return addresses


def check_url(url: str) -> None:
    """Refuses a URL that may not be called (at save time)."""
    _, host, port, _ = parse(url)
    checked_addresses(host, port)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, connect_timeout, read_timeout):
        super().__init__(host, port, timeout=read_timeout)
        self._address, self._connect_timeout, self._read_timeout = address, connect_timeout, read_timeout

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), timeout=self._connect_timeout)
        self.sock.settimeout(self._read_timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, connect_timeout, read_timeout):
        super().__init__(host, port, timeout=read_timeout, context=ssl.create_default_context())
        self._address, self._connect_timeout, self._read_timeout = address, connect_timeout, read_timeout

    def connect(self):
        sock = socket.create_connection((self._address, self.port), timeout=self._connect_timeout)
        sock.settimeout(self._read_timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, excerpt: int = 200) -> tuple[int, str]:
    """POST ``body`` to ``url`` at a checked address; answers the status and a sanitised excerpt.

    Raises ``AddressRefused`` for a refused address and ``OSError`` (time-outs included) or
    ``http.client.HTTPException`` when the receiver cannot be reached or answers nonsense.
    """
    scheme, host, port, path = parse(url)
    address = checked_addresses(host, port)[0]
    kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = kind(
        host, port, address, settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS, settings.WEBHOOKS_READ_TIMEOUT_SECONDS
    )
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        head = response.read(excerpt * 4)  # at most this much is read; the rest is dropped
        return response.status, sanitise(head, excerpt)
    finally:
        connection.close()


def sanitise(data: bytes, limit: int) -> str:
    """Printable ASCII only, whitespace folded, at most ``limit`` characters."""
    text = data.decode("ascii", errors="replace")
    text = "".join(ch if 32 <= ord(ch) < 127 else " " for ch in text)
    return " ".join(text.split())[:limit]
