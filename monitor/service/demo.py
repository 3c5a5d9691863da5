"""``news-monitor demo``: the whole loop, offline, in a few seconds.

A replay feed server and a webhook receiver start on 127.0.0.1 (ephemeral ports); a temporary folder holds
the SQLite database and a seed folder with the flash of the example story. Then, through the same
``Pipeline`` the daemon runs: the flash opens a tracked developing story, unrelated news arrives, the long
version arrives under another URL and headline, and the receiver gets one signed ``story.updated`` event
with what is new. Everything stops by itself at the end.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from monitor.config import parse_config
from monitor.render import Progress
from monitor.service.pipeline import Pipeline
from monitor.store.db import Database

SEED_NAME = "000_900818fe0882e21f.txt"
_FLASH_END = "Check back for updates on this developing story."


def find_seed() -> Path:
    for root in (Path.cwd() / "seeds", Path(__file__).resolve().parents[2] / "seeds"):
        if (root / SEED_NAME).is_file():
            return root / SEED_NAME
    raise FileNotFoundError(f"seeds/{SEED_NAME} not found: run the demo from the news-monitor checkout")


class _Demo:
    """The two servers: a feed whose items we set, and a receiver that keeps what it is sent."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []  # (title, link, html)
        self.received: list[dict[str, Any]] = []
        demo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = demo.rss().encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                demo.received.append({"headers": dict(self.headers), "event": json.loads(data)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def rss(self) -> str:
        items = "".join(
            f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
            f"<description>{escape(h)}</description></item>"
            for t, link, h in self.items
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Demo wire</title>{items}</channel></rss>'


@contextmanager
def _serving(demo: _Demo) -> Iterator[_Demo]:
    thread = threading.Thread(target=demo.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield demo
    finally:
        demo.server.shutdown()
        demo.server.server_close()


def _html(body: str) -> str:
    return "".join(f"<p>{escape(p.strip())}</p>" for p in body.split("\n\n") if p.strip())


async def _scenario(folder: Path, demo: _Demo, say: Progress) -> None:
    headline, _, body = find_seed().read_text(encoding="utf-8").partition("\n")
    flash = body[: body.index(_FLASH_END) + len(_FLASH_END)].strip()
    (folder / "seeds").mkdir()
    (folder / "seeds" / "aleppo-flash.txt").write_text(f"{headline}\n\n{flash}\n", encoding="utf-8")
    raw = {
        "monitor": {"database": "sqlite:///demo.db", "seeds_dir": "seeds", "poll_interval": "10m"},
        "feeds": [{"name": "wire", "url": f"{demo.url}/wire.rss"}],
        "webhooks": [{"name": "desk", "url": f"{demo.url}/hook", "format": "json", "secret": "whsec_ZGVtbw=="}],
        "watchlists": [{"name": "syria", "keywords": ["Aleppo", "Idlib"], "webhooks": ["desk"]}],
    }
    config = parse_config(raw, base=folder, source="demo")
    pipeline = Pipeline(config, Database(config.monitor.database))
    try:
        say.step("1/3 the flash is in the seed folder; the wire carries unrelated news")
        demo.items = [
            (
                "Stocks edge higher as investors weigh rate comments",
                "http://wire.test/markets",
                "<p>Shares rose modestly on Tuesday in New York as traders weighed comments on rates.</p>",
            )
        ]
        await pipeline.run_once(flush_timeout=5)
        say.step(f"    receiver got: {[r['event']['type'] for r in demo.received]}")
        say.step("2/3 the long version arrives on the wire, under another URL and headline")
        demo.items.append(
            (
                "Syria's army retakes all of Aleppo; U.N. warns Idlib may be next",
                "http://wire.test/world/aleppo-full",
                _html(body),
            )
        )
        await pipeline.run_once(flush_timeout=5)
        say.step(f"    receiver got: {[r['event']['type'] for r in demo.received]}")
        say.step("3/3 the wire is polled again, unchanged")
        await pipeline.run_once(flush_timeout=5)
        say.step(f"    receiver got: {[r['event']['type'] for r in demo.received]} (nothing new, no alert)")
    finally:
        await pipeline.aclose()
        pipeline.db.close()


def _show(event: dict[str, Any], headers: dict[str, str]) -> None:
    update = event["update"]
    print(f"\n{event['type']}  {event['id']}  (signed: {headers.get('webhook-signature', '-')[:24]}...)")
    print(f"story {event['story']['id']}: {event['story']['title']}")
    print(f"update {update['seq']} from {update['article']['url']}, headline changed: {update['headline_changed']}")
    print(f"{len(update['added'])} new sentence(s), e.g.:")
    for sentence in update["added"][:5]:
        print(f"  + {sentence}")
    for key in ("numbers", "quotes", "names"):
        values = update["facts"][key]
        print(f"  {key}: {'; '.join(values[:6])}{' ...' if len(values) > 6 else ''}")


def run_demo(*, json_output: bool = False, keep: bool = False) -> int:
    say = Progress("demo")
    folder = Path(tempfile.mkdtemp(prefix="news-monitor-demo-"))
    with _serving(_Demo()) as demo:
        say.step(f"feed server and webhook receiver on {demo.url}; working folder {folder}")
        asyncio.run(_scenario(folder, demo, say))
    updates = [r for r in demo.received if r["event"]["type"] == "story.updated"]
    if json_output:
        print(json.dumps([r["event"] for r in demo.received], indent=2, ensure_ascii=False))
    elif updates:
        _show(updates[0]["event"], updates[0]["headers"])
    if not keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    else:
        say.step(f"kept {folder}: try  news-monitor stories --all --config <a config pointing at {folder}/demo.db>")
    return 0 if len(updates) == 1 else 1
