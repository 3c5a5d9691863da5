"""The Starlette application of the HTTP listener: pages, Atom feeds, health, readiness and metrics.

Read-only by construction: every route answers GET (and HEAD) only, and the store is used through
``store.views`` and read functions. Endpoints are plain functions, which Starlette runs in its thread pool,
so the blocking SQL never stalls the daemon's event loop that uvicorn shares.

What it does not do: authenticate. The listener binds to 127.0.0.1 unless configured otherwise; anything
wider belongs behind a reverse proxy (docs/web.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.core import furniture
from monitor.core.redact import redact_text, redact_url
from monitor.errors import MonitorError
from monitor.store import feed_state, views
from monitor.store import furniture as furniture_store
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.web import atom, present

HERE = Path(__file__).parent
# No scripts at all; styles only from our own stylesheet; nothing may frame us or post anywhere.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
PAGE_SIZE = 200
ATOM_ENTRIES = 50
ReadyCheck = Callable[[], Mapping[str, bool]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def http_url(url: str | None) -> str | None:
    """Only http(s) links from feeds become clickable (no ``javascript:`` or ``data:`` hrefs)."""
    return url if url and urlsplit(url).scheme in ("http", "https") else None


def templates(now: Callable[[], datetime]) -> Environment:
    # autoescape=True for every template: titles, sentences, outlets and errors all come from feeds.
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined)
    env.filters.update(iso=present.iso, ago=lambda when: present.ago(when, now()), http_url=http_url)
    env.filters.update(redact_url=redact_url, redact_text=redact_text)  # feed URLs may hold user:password@
    return env


class SecurityHeaders:
    """Adds the CSP and friends to every response, static files and errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class VersionView:
    record: Any  # store.records.VersionRecord
    paragraphs: list[list[present.Sentence]]
    why: list[tuple[str, str]]
    known: int  # sentences of this version already known from earlier ones
    edits: present.Edits  # values changed, sentences removed


class Site:
    """The endpoints, bound to one database, clock and readiness check."""

    def __init__(
        self,
        db: Database,
        *,
        ready: ReadyCheck | None,
        registry: CollectorRegistry | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.db, self.ready, self.registry, self.clock = db, ready, registry, clock
        self.env = templates(clock)

    def render(self, request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
        started = time.perf_counter()
        root = request.scope.get("root_path", "").rstrip("/") + "/"
        now = self.clock()
        html = self.env.get_template(name).render(root=root, now_iso=present.iso(now), **context)
        took = (time.perf_counter() - started) * 1000
        return HTMLResponse(html, code, headers={"server-timing": f"render;dur={took:.1f}"})

    # --- pages -----------------------------------------------------------------------------------------

    def stories(self, request: Request) -> Response:
        watchlist = request.query_params.get("watchlist") or None
        rows = views.live_stories(self.db, watchlist=watchlist, limit=PAGE_SIZE)
        names = views.watchlist_names(self.db)
        return self.render(request, "stories.html", page="stories", rows=rows, watchlists=names, watchlist=watchlist)

    def story(self, request: Request) -> Response:
        story = story_store.get_story(self.db, request.path_params["story_id"])
        if story is None:
            raise HTTPException(404, "No such story.")
        versions = []
        records = story_store.story_versions(self.db, story.id)
        outlets = {furniture.outlet_key(v.article.url, v.article.source) for v in records}
        learnt = frozenset().union(*(furniture_store.outlet_furniture(self.db, o) for o in outlets))
        for v, edits in zip(records, present.edits(records, learnt), strict=True):
            paragraphs = present.highlight(v.article.text, v.added, learnt)
            why = present.why(v.match, opened=v.seq == 1)
            versions.append(VersionView(v, paragraphs, why, present.count(paragraphs, "known"), edits))
        return self.render(request, "story.html", page="story", story=story, versions=versions)

    def feeds(self, request: Request) -> Response:
        return self.render(request, "feeds.html", page="feeds", feeds=feed_state.feed_states(self.db))

    def updates(self, request: Request) -> Response:
        watchlist = request.path_params.get("name")
        events = views.story_updates(self.db, watchlist=watchlist, limit=ATOM_ENTRIES)
        base = str(request.base_url)
        title = f"news-monitor: {watchlist} updates" if watchlist else "news-monitor: story updates"
        feed_id = f"watchlist/{watchlist}/updates" if watchlist else "updates"
        body = atom.build_feed(
            events, title=title, feed_id=feed_id, self_url=str(request.url), base_url=base, now=self.clock()
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    # --- operations ---------------------------------------------------------------------------

    def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n")  # the process answers: that is all liveness means

    def readyz(self, request: Request) -> Response:
        checks = {"database": True}
        try:
            self.db.ping()
        except MonitorError:
            checks["database"] = False
        if self.ready is not None:
            checks.update(self.ready())
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    def metrics(self, request: Request) -> Response:
        if self.registry is None:
            raise HTTPException(404, "No metrics on this listener.")
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    # --- errors ------------------------------------------------------------------------------------------

    def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = exc.status_code
        response = self.render(request, "error.html", code, page="error", status_code=code, message=exc.detail)
        response.headers.update(exc.headers or {})  # e.g. ``Allow`` on a 405
        return response

    def store_error(self, request: Request, exc: Exception) -> Response:
        # The database is down or locked: say so, without the URL (the message is redacted by the store).
        return PlainTextResponse(f"database unavailable: {exc}\n", status_code=503)


def create_app(
    db: Database,
    *,
    ready: ReadyCheck | None = None,
    registry: CollectorRegistry | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> ASGIApp:
    site = Site(db, ready=ready, registry=registry, clock=clock)
    routes = [
        Route("/", site.stories, methods=["GET"]),
        Route("/stories/{story_id}", site.story, methods=["GET"]),
        Route("/feeds", site.feeds, methods=["GET"]),
        Route("/updates.atom", site.updates, methods=["GET"]),
        Route("/watchlists/{name}/updates.atom", site.updates, methods=["GET"]),
        Route("/healthz", site.healthz, methods=["GET"]),
        Route("/readyz", site.readyz, methods=["GET"]),
        Route("/metrics", site.metrics, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: site.http_error, MonitorError: site.store_error})
    return SecurityHeaders(app)
