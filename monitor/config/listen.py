"""``monitor.http_listen``: the address of the read-only web/metrics listener, and when to warn about it."""

from __future__ import annotations

import ipaddress
import re


def parse_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"``, ``"localhost:8080"`` or ``"[::1]:8080"`` -> (host, port)."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([A-Za-z0-9.-]+):(\d{1,5})", value.strip())
    port = int((m.group(2) or m.group(4)) if m else -1)
    if m is None or not 0 <= port <= 65535:
        raise ValueError(f"must be 'host:port' like '127.0.0.1:8080' (or '' for off), got: {value!r}")
    return (m.group(1) or m.group(3)), port


def public_listen_warning(listen: str) -> str | None:
    """A warning when ``http_listen`` is not a loopback address: the pages have no authentication."""
    if not listen:
        return None
    host = parse_listen(listen)[0]
    try:
        loopback = host.lower() == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost: it may well resolve to a public address
        loopback = False
    if loopback:
        return None
    return (
        f"monitor.http_listen: {listen!r} is not a loopback address: the pages and /metrics have no "
        "authentication and are public to anyone who can reach it; keep it on 127.0.0.1 behind a reverse "
        "proxy (docs/web.md)"
    )
