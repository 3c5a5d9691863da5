"""Real HTTP servers on 127.0.0.1 for end-to-end tests: a feed server and a webhook receiver.

Both run ``ThreadingHTTPServer`` in a daemon thread, bind an ephemeral port, and stop when the test's
fixture exits. Nothing here is a mock: the daemon talks to them over real sockets.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # answer 304 when the client's validators match


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FeedServer:
    """Serves ``routes[path]``; supports ETag / Last-Modified and 304; records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with outer._lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    outer.requests.append({"path": self.path, "headers": headers})
                    route = outer.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay:
                    time.sleep(route.delay)
                etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                if route.conditional and route.status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                if route.conditional:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", formatdate(usegmt=True))
                for k, v in route.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(route.body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path: str, body: bytes | str, **kwargs: Any) -> None:
        with self._lock:
            self.routes[path] = Route(body.encode() if isinstance(body, str) else body, **kwargs)

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path]


class Receiver:
    """A webhook receiver: records every POST; answers from ``script`` (a list of statuses) then 200."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.script: list[int | tuple[int, dict[str, str]]] = []
        self._started = 0
        self.delay = 0.0  # seconds to wait before answering: deliveries stay "in flight"
        self.answer = b"ok"  # the body of every answer
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with outer._lock:
                    outer._started += 1
                if outer.delay:
                    time.sleep(outer.delay)
                with outer._lock:
                    step = outer.script.pop(0) if outer.script else 200
                    status, headers = step if isinstance(step, tuple) else (step, {})
                    outer.received.append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "status": status,
                            "path": self.path,
                        }
                    )
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(outer.answer)))
                    self.end_headers()
                    self.wfile.write(outer.answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender died mid-request (the crash tests do this on purpose)

        self.server = _Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted(self) -> list[dict[str, Any]]:
        """Events the receiver answered 2xx to, de-duplicated by webhook-id as a real receiver would."""
        with self._lock:
            seen: dict[str, dict[str, Any]] = {}
            for r in self.received:
                if 200 <= r["status"] < 300:
                    seen.setdefault(r["headers"]["webhook-id"], json.loads(r["body"]))
            return list(seen.values())

    def started(self) -> int:
        """POSTs whose body has arrived (answered or still waiting on ``delay``)."""
        with self._lock:
            return self._started

    def all_posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received)


@contextmanager
def running(server: FeedServer | Receiver) -> Iterator[Any]:
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def rss(items: list[dict[str, str]], title: str = "Test feed") -> str:
    """A small RSS 2.0 document; each item has title, link, guid, description (HTML allowed)."""
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{escape(title)}</title>'
        "<link>http://127.0.0.1/</link><description>test</description>"
    ]
    for it in items:
        parts.append(
            f"<item><title>{escape(it['title'])}</title><link>{escape(it['link'])}</link>"
            f'<guid isPermaLink="false">{escape(it.get("guid", it["link"]))}</guid>'
            f"<pubDate>{it.get('pubDate', formatdate(usegmt=True))}</pubDate>"
            f"<description>{escape(it['description'])}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts)
