"""Guards for bytes and URLs that come from the web: XML entity declarations and private addresses.

What it checks:

* ``check_xml_entities``: before feedparser sees a body, its entity declarations are read by a real XML
  tokenizer (expat, which never fetches anything here), not by a regex: a regex was fooled by a quoted
  ``"]>"`` in one declaration or a ``>`` in the DOCTYPE's system id, and the declarations after it went
  unchecked while feedparser expanded them (one 250 KB feed took the process tree to 14 GB). Refused, with a
  ``FeedParseError`` naming the feed and the entity: parameter entities with a value, external entities
  naming anything but an http(s) URL (``file:``, ``php:`` ...: the XXE shape), entities that refer to other
  entities ("billion laughs"), entities longer than ``MAX_ENTITY_CHARS``, more than ``MAX_ENTITIES``
  declarations, declarations whose expansion would exceed a budget ("quadratic blowup"), and any
  ``<!ENTITY`` the tokenizer did not report (after a parameter-entity reference expat does not read, or in
  a prolog that is not well-formed XML, where feedparser's own regexes would still find it). Short literal
  entities (``<!ENTITY nbsp "&#160;">``) and http(s) entity sets (never fetched) still pass: old real feeds
  use them. The body checked must be the bytes feedparser reads (``feeds.parse_feed`` converts it to UTF-8
  the way feedparser does first, so a UTF-16 or UTF-7 body cannot hide a declaration).
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
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.parsers import expat

from monitor.errors import FeedParseError, FetchError

# Where feedparser stops looking for declarations (its head ends at the first "<" + word character).
_FIRST_ELEMENT = re.compile(rb"<\w")
_KEYWORD = b"<!ENTITY"
_GENERAL_REF = re.compile(r"&[^#\s;][^\s;]*;")
MIN_EXPANSION_BUDGET = 1024 * 1024  # bytes entities may expand to, at least, whatever the body size
MAX_ENTITY_CHARS = 256  # "&#160;", "(C) Example Corp": declared entities in real feeds are short
MAX_ENTITIES = 64
_CHUNK = 64 * 1024
MAX_PROLOG_BYTES = 1024 * 1024  # the tokenizer reads at most this much looking for the first element


@dataclass(frozen=True)
class _Declaration:
    name: str
    parameter: bool
    value: str | None  # None: an external entity
    system_id: str | None


class _PrologEnd(Exception):
    """Raised from expat's start-element handler: declarations can only come before the first element."""


def _declarations(body: bytes) -> tuple[list[_Declaration], int | None]:
    """The entity declarations expat reports, and the byte offset of the first element (None if it failed)."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)  # never read an external DTD
    found: list[_Declaration] = []

    def entity(
        name: str, parameter: int, value: str | None, _b: object, system_id: str | None, _p: object, _n: object
    ) -> None:
        found.append(_Declaration(name, bool(parameter), value, system_id))

    def start(_name: str, _attributes: object) -> None:
        raise _PrologEnd

    parser.EntityDeclHandler = entity
    parser.StartElementHandler = start
    try:
        for at in range(0, min(len(body), MAX_PROLOG_BYTES), _CHUNK):
            parser.Parse(body[at : at + _CHUNK], False)
    except _PrologEnd:
        return found, parser.CurrentByteIndex
    except expat.ExpatError:
        pass
    return found, None


def _entity_problem(d: _Declaration) -> str | None:
    if d.value is None:  # SYSTEM / PUBLIC
        # feedparser drops external declarations and never resolves them, so an old feed that pulls in the
        # W3C's HTML entity sets over http(s) still reads; one that names a local file is an attack.
        if (d.system_id or "").lower().startswith(("http://", "https://")):
            return None
        kind = f"parameter entity %{d.name}" if d.parameter else f"external entity {d.name!r}"
        return f"{kind} names a non-http(s) resource (could read local files)"
    if d.parameter:
        return f"parameter entity %{d.name} declared in the DOCTYPE"
    if _GENERAL_REF.search(d.value):
        return f"entity {d.name!r} refers to other entities (nested expansion, 'billion laughs')"
    if len(d.value) > MAX_ENTITY_CHARS:
        return f"entity {d.name!r} is {len(d.value):,} characters long (at most {MAX_ENTITY_CHARS} are taken)"
    return None


def check_xml_entities(body: bytes, where: str) -> None:
    """Raise ``FeedParseError`` if the prolog declares entities that could expand, fetch or hide."""
    if _KEYWORD not in body:
        return
    declarations, first = _declarations(body)
    head = _FIRST_ELEMENT.search(body)
    head_end = max(head.end() if head else len(body), first or 0)
    if len(declarations) > MAX_ENTITIES:
        raise FeedParseError(where, f"refused: {len(declarations):,} entity declarations (at most {MAX_ENTITIES})")
    budget = max(MIN_EXPANSION_BUDGET, 4 * len(body))
    expanded = sum(
        body.count(f"&{d.name};".encode()) * len(d.value.encode()) for d in declarations if d.value is not None
    )
    if expanded > budget:
        raise FeedParseError(
            where, f"refused: declared entities would expand to {expanded:,} bytes (budget {budget:,})"
        )
    for d in declarations:
        if problem := _entity_problem(d):
            raise FeedParseError(where, f"refused: {problem}")
    if body.count(_KEYWORD, 0, head_end) > len(declarations):
        raise FeedParseError(
            where,
            "refused: entity declarations an XML parser does not read (after a parameter-entity reference, "
            "or in a prolog that is not well-formed XML)",
        )


# IPv6 forms that carry an IPv4 address a gateway or the host's stack may deliver to: NAT64's
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
