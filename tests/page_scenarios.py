"""Page-check scenarios on real article pages (../shared/data/article_pages), served on 127.0.0.1 and watched
by the real daemon (``news-monitor run`` in a subprocess): used by tests/test_pages_data.py and
bench/pages_scenarios.py.

* growing pages: the real page with its last article paragraphs removed (found in the HTML from the
  annotators' body), then the real page, at the same URL, the feed item unchanged;
* churning pages: the real page with a box of headlines, a comment counter and "updated N minutes ago"
  outside the article, different on every request.

The feed lists one item per page: a "BREAKING:" title (so the story is developing) and the body's first
sentences as a summary. The report says which growing pages had their restored paragraphs reported, the
share of restored words found in the updates' added sentences, and the events on churn-only pages.
Extraction F1 uses the benchmark's own scoring (4-word shingles, per-page normalised; its evaluate.py).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import mean
from typing import Any
from xml.sax.saxutils import escape

import lxml.html

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "article_pages"
GROW_SHARE = 0.3  # the last 30% of an article's paragraphs are removed, then restored


@dataclass(frozen=True)
class Page:
    id: str
    html: bytes
    body: str  # the annotators' article body
    url: str


def load_pages() -> list[Page]:
    truth = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for pid, item in sorted(truth.items()):
        raw = gzip.decompress((DATA / "html" / f"{pid}.html.gz").read_bytes())
        pages.append(Page(pid, raw, item.get("articleBody", ""), item.get("url", "")))
    return pages


# --- the benchmark's scoring (article-extraction-benchmark evaluate.py: shingles of 4 tokens) -------------

_TOKEN = re.compile(r"\w+", re.UNICODE)


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def shingle_counts(true: str, pred: str) -> tuple[float, float, float]:
    t, p = _shingles(true), _shingles(pred)
    tp = sum((t & p).values())
    fp, fn = sum((p - t).values()), sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def benchmark_f1(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """(true, predicted) per page -> the benchmark's precision, recall and F1 (means over pages)."""
    counts = [shingle_counts(t, p) for t, p in pairs]

    def prec(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def rec(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))

    p = mean(prec(*c) for c in counts if c[0] + c[1] > 0)
    r = mean(rec(*c) for c in counts if c[0] + c[2] > 0)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r), "pages": len(counts)}


# --- building the variants -------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))


def _parser(html: bytes) -> lxml.html.HTMLParser | None:
    """UTF-8 pages without a charset lxml sees are read as Latin-1 by default: the cut page would then be
    served as mojibake, every sentence of it would differ from the whole page, and the whole article would
    be "added" when the page grows."""
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return lxml.html.HTMLParser(encoding="utf-8")


def truncated(page: Page) -> tuple[bytes, list[str]] | None:
    """The page without its last article paragraphs, and the paragraphs actually removed (those found as
    elements of their own in the HTML); None when none of them is (the page is left out of the growing set)."""
    paras = [p.strip() for p in page.body.split("\n") if p.strip()]
    if len(paras) < 3:
        return None
    k = max(1, round(len(paras) * GROW_SHARE))
    tree = lxml.html.fromstring(page.html, parser=_parser(page.html))
    elements = [el for el in tree.iter("p", "li", "blockquote", "h2", "h3", "h4", "div", "span", "figcaption")]
    removed = []
    for para in paras[-k:]:
        want = _norm(para)
        for el in elements:
            if not want or el.getparent() is None:
                continue  # nothing to look for, or already dropped
            have = _norm(el.text_content())
            if want[:80] in have and len(have) <= len(want) * 1.3 + 40:
                el.drop_tree()  # the first (outermost) element that is this paragraph
                removed.append(para)
                break
    if not removed:
        return None
    return lxml.html.tostring(tree, encoding="utf-8"), removed


def churned(html: bytes, n: int) -> bytes:
    """The page with a box of rotating headlines, counters and a timestamp outside the article."""
    heads = ["Markets slide as oil jumps", "Storm warning for the coast", "Cup final tickets sold out",
             "New phone leaks ahead of launch", "Mayor opens the new bridge", "Rates held"]  # fmt: skip
    items = "".join(f"<li><a href='/x/{(n + i) % 97}'>{heads[(n + i) % len(heads)]}</a></li>" for i in range(4))
    box = (
        f"<aside class='most-read'><h3>Most read</h3><ol>{items}</ol><p>{1000 + 37 * n} comments</p>"
        f"<p>Updated {n % 59 + 1} minutes ago</p><div class='ad'>Advertisement</div></aside>"
    )
    if b"</body>" in html:
        return html.replace(b"</body>", box.encode() + b"</body>", 1)
    return html + box.encode()


def summary(body: str) -> str:
    first = next((p for p in body.split("\n") if p.strip()), "")
    return first[:300]


# --- the server ------------------------------------------------------------------------------------------


@dataclass
class Site:
    """Serves /feed.rss and /p/<id>; a page is static bytes (with ETag) or churns on every request."""

    static: dict[str, bytes] = field(default_factory=dict)
    churn: dict[str, bytes] = field(default_factory=dict)
    feed: bytes = b""
    hits: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self) -> tuple[ThreadingHTTPServer, int]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path
                with site.lock:
                    site.hits[path] += 1
                    n = site.hits[path]
                    if path == "/feed.rss":
                        body, ctype = site.feed, "application/rss+xml"
                    elif path in site.churn:
                        body, ctype = churned(site.churn[path], n), "text/html; charset=utf-8"
                    elif path in site.static:
                        body, ctype = site.static[path], "text/html; charset=utf-8"
                    else:
                        body, ctype = b"", ""
                if not ctype:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if path in site.static and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if path in site.static:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, int(server.server_address[1])


def feed_xml(items: list[tuple[str, str, str]]) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>wire</title>'
             "<link>http://127.0.0.1/</link><description>x</description>"]  # fmt: skip
    for title, link, desc in items:
        parts.append(
            f"<item><title>{escape(title)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
            f"<description>{escape(desc)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def _title(page: Page) -> str:
    found = lxml.html.fromstring(page.html).xpath("//title/text()")
    return " ".join(str(found[0]).split())[:150] if found else page.id


# --- the run ---------------------------------------------------------------------------------------------


@dataclass
class Report:
    growing: int
    growing_reported: int
    restored_words: int
    restored_words_reported: int
    churning: int
    churn_events: int
    churn_versions: int
    left_out: int
    seconds: float
    checks: dict[str, int]
    details: list[dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        return {
            "growing_pages": self.growing,
            "growing_reported_share": round(self.growing_reported / max(1, self.growing), 3),
            "restored_words_reported_share": round(self.restored_words_reported / max(1, self.restored_words), 3),
            "churning_pages": self.churning,
            "events_on_churn": self.churn_events,
            "versions_on_churn": self.churn_versions,
            "left_out_unbuildable": self.left_out,
            "seconds": round(self.seconds, 1),
            "page_checks": self.checks,
        }


def _wait(db: Path, condition: str, want: int, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with sqlite3.connect(db) as conn:
                if conn.execute(f"SELECT count(*) FROM watched_pages WHERE {condition}").fetchone()[0] >= want:
                    return
        except sqlite3.OperationalError:
            pass  # not migrated yet
        time.sleep(0.5)
    raise TimeoutError(f"{condition}: fewer than {want} pages after {timeout:.0f}s")


def run(work: Path, pages: list[Page], *, grow_every: int = 2, timeout: float = 240) -> Report:
    """Every ``grow_every``-th buildable page grows, the others churn."""
    started = time.monotonic()
    site = Site()
    server, port = site.serve()
    base = f"http://127.0.0.1:{port}"
    growing: dict[str, list[str]] = {}
    full: dict[str, bytes] = {}
    items, left_out = [], 0
    for i, page in enumerate(pages):
        path = f"/p/{page.id[:16]}"
        cut = truncated(page) if i % grow_every == 0 else None
        if i % grow_every == 0 and cut is None:
            left_out += 1
            continue
        if cut is not None:
            site.static[path], growing[path] = cut[0], cut[1]
            full[path] = page.html
        else:
            site.churn[path] = page.html
        items.append((f"BREAKING: {_title(page)}", base + path, summary(page.body)))
    site.feed = feed_xml(items)
    db = work / "pages.db"
    (work / "monitor.toml").write_text(
        "\n".join([
            "[monitor]", 'database = "sqlite:///pages.db"', "allow_private_addresses = true",
            'page_check_min = "2s"', 'page_check_max = "4s"', 'quiet_after = "1h"', "jitter = 0.1",
            "", "[[feeds]]", 'name = "wire"', f'url = "{base}/feed.rss"', 'interval = "1h"',
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (work / "daemon.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(work / "monitor.toml")],
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        n = len(items)
        _wait(db, "checks >= 1", n, timeout)  # every page has its baseline
        with site.lock:
            site.static.update(full)  # the growing pages get their last paragraphs back
        _wait(db, "checks >= 4", n, timeout)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
        server.shutdown()
        server.server_close()
    return _report(db, base, growing, set(site.churn), left_out, time.monotonic() - started)


def _report(db: Path, base: str, growing: dict[str, list[str]], churn: set[str], left_out: int,
            seconds: float) -> Report:  # fmt: skip
    with sqlite3.connect(db) as conn:
        events = [json.loads(r[0]) for r in conn.execute("SELECT payload FROM events ORDER BY created_at")]
        page_versions = Counter(r[0] for r in conn.execute("SELECT url FROM articles WHERE source = 'page'"))
        checks = dict(Counter(r[0] for r in conn.execute("SELECT status FROM watched_pages")))
    by_page: dict[str, list[str]] = {}
    for e in events:
        update = e.get("update") or {}
        article = update.get("article") or {}
        if e["type"] == "story.updated" and article.get("via") == "page":
            by_page.setdefault(article["url"].removeprefix(base), []).extend(update.get("added", []))
    details, reported, words_total, words_found = [], 0, 0, 0
    for path, restored in growing.items():
        added = Counter(_TOKEN.findall(" ".join(by_page.get(path, [])).lower()))
        want = Counter(_TOKEN.findall(" ".join(restored).lower()))
        found = sum((want & added).values())
        words_total += sum(want.values())
        words_found += found
        ok = bool(by_page.get(path)) and found >= 0.5 * sum(want.values())
        reported += ok
        details.append({"page": path, "restored_words": sum(want.values()), "found": found, "reported": ok})
    churn_events = sum(len(by_page.get(p, [])) > 0 for p in churn)
    churn_versions = sum(page_versions.get(base + p, 0) for p in churn)
    return Report(len(growing), reported, words_total, words_found, len(churn), churn_events, churn_versions,
                  left_out, seconds, checks, details)  # fmt: skip
