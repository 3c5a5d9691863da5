"""Guards for bytes and URLs that come from the web: XML entity declarations and private addresses.

What it checks (issue 5):

* ``check_xml_entities``: before feedparser sees a body, the DOCTYPE's internal subset is read. External
  entities naming anything but an http(s) URL (``file:``, ``php:``, ``expect:`` ...: the XXE shape),
  internal parameter entities, entities that refer to other entities (the "billion laughs" nesting) and
  declarations whose expansion would exceed a budget ("quadratic blowup") are refused with a
  ``FeedParseError`` that says which entity and why. feedparser already drops most of these and Python's
  expat (>= 2.4) caps amplification, but neither gives the feed's owner a precise error, and feedparser
  keeps "safe" entities of any length (measured: tests/test_feeds_parse.py).
* ``ensure_public_url``: a URL found *inside* a feed (an article page for full text) must not point at a
  loopback, private, link-local or otherwise non-public address (SSRF), unless the config allows it.

What it does not do: pin the resolved address for the connection that follows (a DNS answer may change
between the check and the connect; redirects are re-checked hop by hop by the caller).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from monitor.errors import FeedParseError, FetchError

# Only the prolog can declare entities: everything before the first element.
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*\[(.*?)\]\s*>", re.DOTALL | re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY\s+(%\s+)?([^\s]+)\s+(.*?)>", re.DOTALL)
_VALUE = re.compile(rb"""^("([^"]*)"|'([^']*)')\s*$""", re.DOTALL)
_SYSTEM_ID = re.compile(rb"""(?:SYSTEM|PUBLIC\s+["'][^"']*["'])\s+["']([^"']*)["']""")
_REF = re.compile(rb"&([A-Za-z_][\w.-]*);|%[A-Za-z_][\w.-]*;")
MIN_EXPANSION_BUDGET = 1024 * 1024  # bytes an entity may expand to, at least, whatever the body size


def _entity_problem(name: str, percent: bytes | None, rest: bytes) -> str | None:
    value = _VALUE.match(rest.strip())
    if value is None:  # SYSTEM / PUBLIC
        # feedparser drops external declarations and never resolves them, so an old feed that pulls in the
        # W3C's HTML entity sets over http(s) still reads; one that names a local file is an attack.
        ids = _SYSTEM_ID.findall(rest)
        if ids and all(i.lower().startswith((b"http://", b"https://")) for i in ids):
            return None
        kind = f"parameter entity %{name}" if percent else f"external entity {name!r}"
        return f"{kind} names a non-http(s) resource (could read local files)"
    if percent:
        return f"parameter entity %{name} declared in the DOCTYPE"
    text = value.group(2) if value.group(2) is not None else value.group(3) or b""
    if any(not m.group(0).startswith(b"&#") for m in _REF.finditer(text)):
        return f"entity {name!r} refers to other entities (nested expansion, 'billion laughs')"
    return None


def check_xml_entities(body: bytes, where: str) -> None:
    """Raise ``FeedParseError`` if the prolog declares entities that could expand or fetch."""
    first = _FIRST_ELEMENT.search(body)
    prolog = body[: first.start()] if first else body[:65536]
    if b"<!ENTITY" not in prolog:
        return
    sizes: dict[bytes, int] = {}
    for subset in _DOCTYPE_SUBSET.findall(prolog):
        for percent, name, rest in _ENTITY.findall(subset):
            problem = _entity_problem(name.decode("utf-8", "replace"), percent, rest)
            if problem:
                raise FeedParseError(where, f"refused: {problem}")
            sizes[name] = len(rest.strip()) - 2
    budget = max(MIN_EXPANSION_BUDGET, 4 * len(body))
    expanded = sum(body.count(b"&" + name + b";") * size for name, size in sizes.items())
    if expanded > budget:
        raise FeedParseError(
            where, f"refused: declared entities would expand to {expanded:,} bytes (budget {budget:,})"
        )


# IPv6 forms that carry an IPv4 address a gateway or the host's stack may deliver to (issue 14): NAT64's
# well-known prefix (RFC 6052), IPv4-compatible addresses (deprecated, RFC 4291 2.5.5.1), and, decoded by
# ipaddress itself, IPv4-mapped (::ffff:0:0/96), 6to4 (2002::/16, RFC 3056) and Teredo (2001::/32).
# Python calls all of them "global", so 64:ff9b::7f00:1 reached 127.0.0.1 through a NAT64 gateway.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local-use translation, any IPv4 behind it
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address, where the traffic ends up
    return ip.ipv4_mapped or ip.sixtofour


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (not loopback, private, link-local, reserved ...);
    an IPv6 address that embeds an IPv4 one is judged by the IPv4 address it carries."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return embedded.is_global and not embedded.is_multicast
    return ip.is_global and not ip.is_multicast


async def ensure_public_url(url: str, *, where: str, allow_private: bool = False) -> None:
    """Raise ``FetchError`` unless every address ``url``'s host resolves to is public (SSRF guard)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(where, f"refusing to fetch {url!r}: only http(s) URLs with a host")
    if allow_private:
        return
    host = parts.hostname
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 80, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise FetchError(where, f"cannot resolve {host!r} for {url}: {e}") from e
    for info in infos:
        address = str(info[4][0])
        if not is_public_address(address):
            raise FetchError(
                where,
                f"refusing to fetch {url}: {host} resolves to non-public address {address} "
                "(set monitor.allow_private_addresses = true to allow)",
            )
