"""The optional HTTP listener (``[monitor] http_listen``): uvicorn serving ``monitor.web`` as a task in the
daemon's own event loop.

Two things uvicorn would otherwise do that a daemon must not let it do:

* install its own SIGTERM/SIGINT handlers (``Server.capture_signals``), replacing the daemon's, then
  re-raise the signal after it stops: ``Server`` below leaves signals to the daemon;
* ``sys.exit(1)`` from inside the task when the address is taken: we bind the socket ourselves first, so
  a taken port is a ``MonitorError`` at start-up naming the address, and the daemon decides what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

import uvicorn

from monitor.config import parse_listen, public_listen_warning
from monitor.errors import MonitorError
from monitor.service import metrics
from monitor.store.db import Database
from monitor.web.app import ReadyCheck, create_app

log = logging.getLogger("monitor.http")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the daemon owns the process's signals and stops us through ``Listener.stop``


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise MonitorError(f"http_listen {host}:{port}: cannot listen: {e.strerror or e}") from e
    sock.set_inheritable(True)
    return sock


class Listener:
    """One running uvicorn server; ``address`` is where it actually listens (port 0 picks a free one)."""

    def __init__(self, server: Server, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.address: tuple[str, int] = sock.getsockname()[:2]
        self.task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name="http-listener")
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while not self.server.started:
            if self.task.done():  # it failed to start: surface its exception here
                await self.task
                raise MonitorError(f"http listener {self.url} stopped while starting")
            if asyncio.get_running_loop().time() > deadline:
                raise MonitorError(f"http listener {self.url} did not start within {START_TIMEOUT:.0f}s")
            await asyncio.sleep(0.01)
        log.info("http.listening url=%s", self.url)

    async def stop(self) -> None:
        if self.task is None:
            return
        self.server.should_exit = True
        try:
            await asyncio.wait_for(self.task, STOP_TIMEOUT)
        except TimeoutError:
            log.warning("http.stop_timeout: open connections were cut")
        finally:
            self.sock.close()
            self.task = None
        log.info("http.stopped")


def build(app: object, host: str, port: int) -> Listener:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]  # any ASGI callable
        log_config=None,  # keep our logging set-up (logs.py); uvicorn logs through "uvicorn.*" loggers
        access_log=False,
        lifespan="off",
        http="h11",
        server_header=False,
        timeout_graceful_shutdown=int(STOP_TIMEOUT),
    )
    return Listener(Server(config), bind(host, port))


async def start(
    listen: str,
    db: Database,
    *,
    ready: ReadyCheck | None = None,
    counters: Mapping[str, int] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Listener | None:
    """Start the listener when ``listen`` is set ("host:port"); None when the listener is off."""
    if not listen:
        return None
    host, port = parse_listen(listen)
    warning = public_listen_warning(listen)
    if warning:
        log.warning("http.public %s", warning)
    now = clock or (lambda: datetime.now(UTC))
    registry = metrics.registry_for(db, now, counters=counters)
    listener = build(create_app(db, ready=ready, registry=registry, clock=now), host, port)
    await listener.start()
    return listener


async def stop(listener: Listener | None) -> None:
    if listener is not None:
        await listener.stop()
