"""A tiny, dependency-free sd_notify(3) client: tells systemd we are ready, alive or stopping.

The protocol (https://www.freedesktop.org/software/systemd/man/sd_notify.html) is one datagram of
newline-separated ``KEY=VALUE`` assignments sent over an ``AF_UNIX``/``SOCK_DGRAM`` socket whose
address systemd puts in ``$NOTIFY_SOCKET``; an address starting with ``@`` names a socket in the
Linux abstract namespace. This mirrors miniflux's ``internal/systemd/systemd.go``.

What it does not do: pass file descriptors (``FDSTORE=1``), speak ``vsock:`` addresses (systemd
>= 254, for VMs), wait for systemd to acknowledge anything, or decide *when* to notify: that is
``service/daemon.py``'s job. Nothing here raises on a failed send: telling systemd is best effort,
and a daemon that crashed because its supervisor was busy would defeat the purpose.

Every function takes ``environ`` (default ``os.environ``) so tests and callers never need to
patch the process environment.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)

# A datagram to a busy systemd blocks while its queue is full; a watchdog ping that waits
# longer than this is better dropped (and logged) than left hanging in a scheduler thread.
SEND_TIMEOUT = 2.0


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` to systemd; True if it was sent, False if not supervised or on failure."""
    env = os.environ if environ is None else environ
    raw = env.get("NOTIFY_SOCKET", "")
    if not raw:
        return False
    address = socket_address(raw)
    if address is None:
        log.warning("sd_notify: unsupported NOTIFY_SOCKET %r, not sending %r", raw, state)
        return False
    return send(address, state, raw)


def socket_address(raw: str) -> bytes | None:
    """``$NOTIFY_SOCKET`` as an ``AF_UNIX`` address, or None for a kind we do not speak."""
    if raw.startswith("@"):
        # Abstract namespace: the kernel wants a leading NUL instead of the '@' (unix(7)).
        return b"\0" + os.fsencode(raw[1:])
    if raw.startswith("/"):
        return os.fsencode(raw)
    return None


def send(address: bytes, state: str, shown: str) -> bool:
    """One datagram to ``address``; ``shown`` names the socket in the warning when it fails."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.settimeout(SEND_TIMEOUT)
            sock.sendto(state.encode(), address)
    except OSError as e:
        log.warning("sd_notify: could not send %r to %s: %s", state, shown, e)
        return False
    return True


def ready(environ: Mapping[str, str] | None = None) -> bool:
    """Start-up is finished (for us: the database is reachable); ``Type=notify`` waits for this."""
    return notify("READY=1", environ)


def stopping(environ: Mapping[str, str] | None = None) -> bool:
    """Shutdown has begun, so systemd shows "deactivating" rather than a hang."""
    return notify("STOPPING=1", environ)


def watchdog(environ: Mapping[str, str] | None = None) -> bool:
    """Reset the ``WatchdogSec=`` timer: we are still alive."""
    return notify("WATCHDOG=1", environ)


def status(text: str, environ: Mapping[str, str] | None = None) -> bool:
    """A one-line status shown by ``systemctl status``."""
    # Assignments are newline-separated, so a newline in text (say, from a feed title) would
    # let it smuggle in READY=1 or MAINPID=: fold it into one line.
    line = " ".join(text.splitlines())
    return notify(f"STATUS={line}", environ)


def watchdog_interval(environ: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """Seconds within which systemd expects ``WATCHDOG=1``, or None when no watchdog is meant for us.

    Follows sd_watchdog_enabled(3): ``$WATCHDOG_USEC`` is a positive integer of microseconds, and
    when ``$WATCHDOG_PID`` is set it must be our pid (else the variables were inherited from a
    parent that is being watched, not us). Bad values are logged and treated as no watchdog.
    """
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    if not usec:
        return None
    watched = env.get("WATCHDOG_PID", "")
    if watched and parse_positive(watched, "WATCHDOG_PID") != (os.getpid() if pid is None else pid):
        return None
    micros = parse_positive(usec, "WATCHDOG_USEC")
    return None if micros is None else micros / 1_000_000


def parse_positive(value: str, name: str) -> int | None:
    """A positive decimal integer, or None (with a warning naming the variable)."""
    if value.isascii() and value.isdigit() and int(value) > 0:
        return int(value)
    log.warning("sd_notify: $%s must be a positive integer, got %r; ignoring the watchdog", name, value)
    return None
