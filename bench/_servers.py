"""A fast webhook receiver for the benchmarks (bench_delivery.py, soak.py), in a process of its own.

Why a separate process: the benchmarks measure the sender (the outbox, the daemon); a receiver in the same
interpreter would share its GIL and slow it down. The receiver is a minimal HTTP/1.1 server on asyncio
streams (keep-alive, Content-Length bodies only: what httpx sends), so it costs far less per request than
``http.server``. It answers 500 to a share ``fail`` of the POSTs (seeded, so runs are repeatable) and 200 to
the rest, and records for every POST the ``webhook-id`` header, the status and the wall-clock time just
before the answer is written (``time.time()``: comparable with the events' ``created_at``).

Control endpoints on the same port: ``GET /_log`` (the records as JSON), ``POST /_set?fail=0.2&seed=1``
(also clears the log). ``Receiver`` starts and stops the process.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass(frozen=True)
class Post:
    webhook_id: str
    status: int
    at: float  # time.time() when the answer was written


class _State:
    def __init__(self, fail: float, seed: int) -> None:
        self.fail = fail
        self.rng = random.Random(seed)
        self.log: list[tuple[str, int, float]] = []


def _answer(status: int, body: bytes = b"ok", content_type: str = "text/plain") -> bytes:
    reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}[status]
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


def _route(state: _State, method: str, target: str, headers: dict[str, str]) -> bytes:
    url = urlsplit(target)
    if url.path == "/_log":
        return _answer(200, json.dumps(state.log).encode(), "application/json")
    if url.path == "/_set":
        query = parse_qs(url.query)
        state.fail = float(query.get("fail", ["0"])[0])
        state.rng = random.Random(int(query.get("seed", ["1"])[0]))
        state.log = []
        return _answer(200)
    if method != "POST":
        return _answer(404)
    status = 500 if state.rng.random() < state.fail else 200
    state.log.append((headers.get("webhook-id", ""), status, time.time()))
    return _answer(status)


async def _connection(state: _State, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target = lines[0].split(" ")[:2]
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            writer.write(_route(state, method, target, headers))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass  # the client closed its keep-alive connection
    finally:
        writer.close()


def _serve(conn: Connection, fail: float, seed: int) -> None:
    async def main() -> None:
        state = _State(fail, seed)
        server = await asyncio.start_server(lambda r, w: _connection(state, r, w), "127.0.0.1", 0, backlog=1024)
        conn.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Receiver:
    """``with Receiver(fail=0.2) as r:`` a receiver process on 127.0.0.1; ``r.url`` takes the POSTs."""

    def __init__(self, fail: float = 0.0, seed: int = 1) -> None:
        ctx = multiprocessing.get_context("spawn")  # no fork: the parent may already run threads
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, fail, seed), daemon=True, name="bench-receiver")
        self._proc.start()
        if not parent.poll(30):
            self._proc.kill()
            raise RuntimeError("the receiver process did not start")
        self.port: int = parent.recv()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._control = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def set(self, fail: float, seed: int = 1) -> None:
        """Change the failure share and clear the log."""
        self._control.post("/_set", params={"fail": fail, "seed": seed}).raise_for_status()

    def posts(self) -> list[Post]:
        rows: list[Any] = self._control.get("/_log").raise_for_status().json()
        return [Post(str(i), int(s), float(t)) for i, s, t in rows]

    def accepted_ids(self) -> set[str]:
        """Distinct webhook-ids answered 200 (what a receiver de-duplicating by id keeps)."""
        return {p.webhook_id for p in self.posts() if p.status == 200}

    def pid(self) -> int | None:
        return self._proc.pid

    def close(self) -> None:
        self._control.close()
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
