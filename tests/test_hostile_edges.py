"""Hostile edges: redirects to internal hosts, the aiohttp client on keep-alive redirects, seed
files with hostile names, links and types, credentials in output, and the systemd units' limits.

Every server here is real, on 127.0.0.1 or 127.0.0.2 (both loopback, so both "private" to the SSRF guard:
a feed configured on 127.0.0.1 is the operator's choice, a redirect from it to 127.0.0.2 is not).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import io
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.alerts.delivery import post_event
from monitor.config import parse_config
from monitor.core.redact import redact_text, redact_url
from monitor.errors import FetchError
from monitor.service.logs import HumanFormatter, JsonFormatter
from monitor.service.pipeline import Pipeline
from monitor.sources.fetch import Fetched, build_client, fetch_feed, fetch_url
from monitor.sources.safety import is_public_address
from monitor.sources.seeds import MAX_DEPTH, scan_seeds
from monitor.store import feed_state
from monitor.web.app import create_app
from tests.servers import rss
from tests.support import pipeline_for, run_cli
from tests.support.polling import poll_due

INTERNAL_PAGE = b"INTERNAL-ONLY admin token=hunter2-internal"


@dataclass
class Hit:
    path: str
    client_port: int
    headers: dict[str, str]


@dataclass
class Site:
    """An HTTP/1.1 keep-alive server: ``routes[path] = (status, headers, body)``; records every request."""

    host: str = "127.0.0.1"
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    @contextlib.contextmanager
    def running(self) -> Iterator[Site]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real feed hosts do

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.hits.append(Hit(self.path, self.client_address[1], headers))
                status, headers, body = outer.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


def redirect(to: str, status: int = 302) -> tuple[int, dict[str, str], bytes]:
    return status, {"Location": to}, b""


FEED = rss([{"title": "Porto closes Luiz I bridge", "link": "https://example.com/a", "description": "A crack."}])


def pipeline(tmp_path: Path, feed_url: str, *, allow_private: bool) -> Pipeline:
    raw = {
        "monitor": {"database": "sqlite:///m.db", "allow_private_addresses": allow_private, "parse_processes": 0},
        "feeds": [{"name": "wire", "url": feed_url}],
    }
    config = parse_config(raw, base=tmp_path)
    p = pipeline_for(config)
    p.sync_feeds()
    return p


# --- item 17: the aiohttp-based client on keep-alive redirects, and a refused connection named as such ---


def test_the_daemons_client_follows_three_keep_alive_redirects() -> None:
    """httpx hands a redirect hop the first request's stream; httpx_aiohttp sent it as a chunked body on a
    GET, which desynchronised the keep-alive connection: the second hop failed."""
    with Site().running() as site:
        site.routes = {"/0": redirect("/1"), "/1": redirect("/2"), "/2": redirect("/3"), "/3": (200, {}, b"<rss/>")}

        async def run() -> Fetched:
            async with build_client("news-monitor-test", 5.0) as client:
                got = await fetch_url(client, site.url("/0"), where="feed 'hops'")  # httpx follows (no guard)
                assert isinstance(got, Fetched)
                return got

        got = asyncio.run(run())
    assert got.body == b"<rss/>" and got.url == site.url("/3")
    assert [h.path for h in site.hits] == ["/0", "/1", "/2", "/3"]
    assert len({h.client_port for h in site.hits}) == 1  # one kept-alive connection for every hop
    assert not any("transfer-encoding" in h.headers or "content-length" in h.headers for h in site.hits)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_webhook_connection_says_connection_refused() -> None:
    port = closed_port()

    async def run() -> str | None:
        async with build_client("news-monitor-test", 5.0) as client:
            outcome = await post_event(
                client,
                url=f"http://127.0.0.1:{port}/hook",
                fmt="json",
                secret=None,
                event_id="evt_1",
                payload={"type": "story.opened"},
                timeout=5.0,
                now=0.0,
            )
            assert not outcome.delivered
            return outcome.error

    error = asyncio.run(run())
    assert error is not None and "connection refused" in error and "Timeout" not in error


def test_a_malformed_answer_is_named_and_not_quoted() -> None:
    """aiohttp quotes the bytes of a malformed status line in its message, and httpx_aiohttp let that
    exception out unmapped (an "internal error" with the page in the logs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(INTERNAL_PAGE + b"\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()

    async def run() -> None:
        async with build_client("news-monitor-test", 5.0) as client:
            await fetch_url(client, f"http://127.0.0.1:{listener.getsockname()[1]}/f", where="feed 'odd'")

    with listener, pytest.raises(FetchError, match=r"RemoteProtocolError .*malformed HTTP answer") as e:
        asyncio.run(run())
    assert "INTERNAL" not in str(e.value) and "hunter2" not in str(e.value)


# --- item 12: SSRF through a feed's redirect -------------------------------------------------------------


def test_a_feed_redirect_to_an_internal_host_is_refused_and_its_page_never_shown(tmp_path: Path) -> None:
    with Site("127.0.0.2").running() as internal, Site().running() as feeds:
        internal.routes["/admin"] = (200, {"Content-Type": "text/plain"}, INTERNAL_PAGE)
        feeds.routes["/feed.rss"] = redirect(internal.url("/admin"))
        p = pipeline(tmp_path, feeds.url("/feed.rss"), allow_private=False)
        [outcome] = poll_due(p)
        assert internal.hits == []  # refused before it was requested
    assert outcome.result == "error"
    state = feed_state.get_feed(p.db, "wire")
    assert state is not None and state.last_error is not None
    assert "refusing to fetch http://127.0.0.2" in state.last_error and "non-public address" in state.last_error
    assert "INTERNAL-ONLY" not in state.last_error and "hunter2" not in state.last_error


def test_a_feed_redirect_elsewhere_is_followed_when_private_addresses_are_allowed(tmp_path: Path) -> None:
    with Site("127.0.0.2").running() as other, Site().running() as feeds:
        other.routes["/moved.rss"] = (200, {"Content-Type": "application/rss+xml"}, FEED.encode())
        feeds.routes["/feed.rss"] = redirect(other.url("/moved.rss"), 301)
        p = pipeline(tmp_path, feeds.url("/feed.rss"), allow_private=True)
        [outcome] = poll_due(p)
    assert outcome.result == "changed" and outcome.new_articles == 1


def test_a_redirect_on_the_configured_host_needs_no_permission(tmp_path: Path) -> None:
    """The operator chose the host (and port) of the configured URL; its own redirects stay allowed."""
    with Site().running() as feeds:
        feeds.routes = {"/feed": redirect("/feed/"), "/feed/": (200, {}, FEED.encode())}
        p = pipeline(tmp_path, feeds.url("/feed"), allow_private=False)
        [outcome] = poll_due(p)
    assert outcome.result == "changed"


def test_another_port_of_the_configured_host_is_another_host() -> None:
    with Site().running() as internal, Site().running() as feeds:
        internal.routes["/admin"] = (200, {}, INTERNAL_PAGE)
        feeds.routes["/feed"] = redirect(internal.url("/admin"))

        async def run() -> None:
            async with build_client("news-monitor-test", 5.0) as client:
                await fetch_feed(client, feeds.url("/feed"), where="feed 'wire'")

        with pytest.raises(FetchError, match=r"non-public address 127\.0\.0\.1") as e:
            asyncio.run(run())
        assert internal.hits == [] and "INTERNAL" not in str(e.value)


def test_a_body_that_is_not_a_feed_is_described_not_quoted(tmp_path: Path) -> None:
    """A configured URL on a private address is the operator's to fetch, but its page is still nobody's to
    read in ``last_error`` (shown on /feeds, in ``status`` and in the logs)."""
    with Site().running() as feeds:
        feeds.routes["/feed"] = (200, {"Content-Type": "text/html"}, b"<html><body>" + INTERNAL_PAGE * 3000)
        p = pipeline(tmp_path, feeds.url("/feed"), allow_private=False)
        [outcome] = poll_due(p)
    assert outcome.result == "error"
    assert outcome.error is not None and "not an RSS/Atom/RDF/JSON feed" in outcome.error
    assert "INTERNAL" not in outcome.error and "hunter2" not in outcome.error


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 (RFC 8215)
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254 (cloud metadata)
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "::ffff:10.0.0.1",  # IPv4-mapped
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
    ],
)
def test_ipv6_forms_of_refused_ipv4_addresses_are_refused(address: str) -> None:
    assert is_public_address(address) is False


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700:4700::1111"])
def test_ipv6_forms_of_public_addresses_stay_public(address: str) -> None:
    assert is_public_address(address) is True


# --- items 9 and 13: seed files with hostile names, depths, links and types ------------------------------


def seed_pipeline(tmp_path: Path) -> Pipeline:
    raw = {"monitor": {"database": "sqlite:///m.db", "seeds_dir": "seeds"}}
    config = parse_config(raw, base=tmp_path)
    return pipeline_for(config)


GOOD = "Porto closes Luiz I bridge\n\nThe bridge was closed on Monday after inspectors found a crack.\n"


def test_a_seed_name_that_is_not_utf8_is_skipped_and_the_others_ingested(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(GOOD, encoding="utf-8")
    fd = os.open(os.fsencode(seeds) + b"/a-\xff.txt", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, GOOD.encode())
    os.close(fd)
    results, errors = seed_pipeline(tmp_path).scan_seeds()  # raised UnicodeEncodeError in SQLite
    assert [r.status for r in results] == ["new-story"]
    [error] = errors
    assert "a-\\udcff.txt" in error and "not UTF-8" in error


def test_a_seed_folder_nested_1100_deep_is_cut_off_and_the_others_ingested() -> None:
    # Not in tmp_path: pytest removes old tmp_path folders with shutil.rmtree, which recurses and would
    # fail on this chain in every later session on the machine if this test were killed half-way.
    seeds = Path(tempfile.mkdtemp(prefix="news-monitor-deep-seeds-"))
    try:
        fd = os.open(seeds, os.O_RDONLY)
        for _ in range(1100):  # one level at a time: pathlib's and os's makedirs recurse too
            os.mkdir("d", dir_fd=fd)
            fd, parent = os.open("d", os.O_RDONLY, dir_fd=fd), fd
            os.close(parent)
        bottom = os.open("bottom.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(bottom, GOOD.encode())
        os.close(bottom)
        os.close(fd)
        (seeds / "good.txt").write_text(GOOD, encoding="utf-8")
        scan = scan_seeds(seeds)  # raised RecursionError
    finally:
        remove_chain(seeds / "d")
        shutil.rmtree(seeds)
    assert [a.guid for a in scan.articles] == ["good.txt"]
    [error] = scan.errors
    assert f"deeper than {MAX_DEPTH} folders" in str(error)


def remove_chain(top: Path) -> None:
    """Remove d/d/d/... one level at a time (pytest's clean-up, shutil.rmtree, recurses)."""
    spare = top.with_name("spare")
    while top.exists():
        if (top / "d").exists():
            (top / "d").rename(spare)
            for f in top.iterdir():
                f.unlink()
            top.rmdir()
            spare.rename(top)
        else:
            for f in top.iterdir():
                f.unlink()
            top.rmdir()


def test_a_newline_in_a_seed_name_is_skipped_and_forges_no_log_line(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(GOOD, encoding="utf-8")
    (seeds / "x\n12:00:00 WARNING monitor.seeds forged.txt").write_text(GOOD, encoding="utf-8")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(HumanFormatter())
    logger = logging.getLogger("monitor")
    logger.addHandler(handler)
    try:
        results, errors = seed_pipeline(tmp_path).scan_seeds()
    finally:
        logger.removeHandler(handler)
    assert [r.status for r in results] == ["new-story"] and len(errors) == 1
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "seeds.error" in lines[0] and "x\\n12:00:00 WARNING" in lines[0]


def test_the_human_log_format_escapes_every_field_and_marks_traceback_lines() -> None:
    def line(**kwargs: Any) -> str:
        args = ("a\x1b[2Jb\udcff",)
        record = logging.LogRecord("monitor.x\n", logging.WARNING, __file__, 1, "seeds.error %s", args, None)
        record.__dict__.update(kwargs)
        return HumanFormatter().format(record)

    assert "\n" not in line() and "a\\x1b[2Jb\\udcff" in line() and "monitor.x\\n" in line()
    try:
        raise ValueError("bad\n12:00:00 INFO    monitor forged")
    except ValueError:
        with_tb = line(exc_info=sys.exc_info())
    first, *rest = with_tb.split("\n")
    assert rest and all(r.startswith("| ") for r in rest)
    assert "forged" not in first and any("bad\\n12:00:00" in r for r in rest)


def test_seed_links_out_of_the_folder_are_not_followed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "sub").mkdir(parents=True)
    (seeds / "sub" / "real.txt").write_text(GOOD, encoding="utf-8")
    outside = tmp_path / "outside.txt"
    outside.write_text("Private notes\n\nnot for the seed folder\n", encoding="utf-8")
    (seeds / "env.txt").symlink_to("/proc/self/environ")
    (seeds / "passwd.txt").symlink_to("/etc/passwd")
    (seeds / "up.txt").symlink_to("../outside.txt")
    (seeds / "inside.txt").symlink_to("sub/real.txt")  # a link that stays inside is fine
    (seeds / "dir.txt").symlink_to(tmp_path)  # a link to a folder: not followed, not read
    scan = scan_seeds(seeds)
    assert sorted(a.guid for a in scan.articles) == ["inside.txt", "sub/real.txt"]
    refused = {str(e.where).rsplit("/", 1)[-1]: e.message for e in scan.errors}
    assert set(refused) == {"env.txt", "passwd.txt", "up.txt", "dir.txt"}
    assert all("leads out of the seed folder" in refused[n] for n in ("env.txt", "passwd.txt", "up.txt", "dir.txt"))


def test_only_regular_seed_files_are_read(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(GOOD, encoding="utf-8")
    os.mkfifo(seeds / "pipe.txt")  # opening it for reading would wait for a writer forever
    (seeds / "to-pipe.txt").symlink_to("pipe.txt")
    (seeds / "loop.txt").symlink_to("loop.txt")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        scan = pool.submit(scan_seeds, seeds).result(timeout=30)
    assert [a.guid for a in scan.articles] == ["good.txt"]
    messages = {str(e.where).rsplit("/", 1)[-1]: e.message for e in scan.errors}
    assert "not a regular file" in messages["pipe.txt"] and "not a regular file" in messages["to-pipe.txt"]
    assert "cannot read" in messages["loop.txt"]


# --- item 15: credentials in output ----------------------------------------------------------------------

PASSWORD = "S3cretPW-7731"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u@h/db?password=X", "postgresql+psycopg://u@h/db?password=***"),
        ("postgresql+psycopg://:X@h/db", "postgresql+psycopg://:***@h/db"),
        ("postgresql://u:X@h:5432/db", "postgresql://u:***@h:5432/db"),
        (
            "https://reader:X@feeds.test/a.rss?page=2&token=X#top",
            "https://reader:***@feeds.test/a.rss?page=2&token=***#top",
        ),
        (
            "https://cdn.test/f?sig=X&Signature=X&api_key=X&id=7",
            "https://cdn.test/f?sig=***&Signature=***&api_key=***&id=7",
        ),
        ("https://feeds.test/a.rss", "https://feeds.test/a.rss"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_finds_urls_and_password_pairs() -> None:
    text = f"OperationalError: postgresql://u:{PASSWORD}@h/db failed (host=h password={PASSWORD}) story_key=abc"
    assert PASSWORD not in redact_text(text) and "story_key=abc" in redact_text(text)


def write_config(tmp_path: Path, database: str, extra: str = "") -> Path:
    config = tmp_path / "m.toml"
    config.write_text(f'[monitor]\ndatabase = "{database}"\n{extra}', encoding="utf-8")
    return config


@pytest.mark.parametrize(
    "database",
    [
        f"postgresql+psycopg://u@127.0.0.1:1/db?password={PASSWORD}",
        f"postgresql+psycopg://:{PASSWORD}@127.0.0.1:1/db",
    ],
)
def test_database_passwords_are_hidden_by_check_config_status_and_run(tmp_path: Path, database: str) -> None:
    config = str(write_config(tmp_path, database))
    for args in (("check-config",), ("check-config", "--json"), ("status",), ("status", "--json"), ("run",)):
        result = run_cli(*args, "--config", config, timeout=60)
        assert PASSWORD not in result.stdout + result.stderr, (args, result.stdout, result.stderr)
    shown = run_cli("check-config", "--config", config).stdout
    assert "***" in shown


def test_a_secret_of_the_wrong_type_is_not_echoed(tmp_path: Path) -> None:
    hooks = (
        f'[[webhooks]]\nname = "a"\nurl = "https://hooks.test/a"\nsecret = 773119\n'
        f'[[webhooks]]\nname = "b"\nurl = "https://hooks.test/b"\nsecret = ["{PASSWORD}"]\n'
        f'[[feeds]]\nname = "f"\nurl = "ftp://reader:{PASSWORD}@feeds.test/a"\n'
    )
    result = run_cli("check-config", "--config", str(write_config(tmp_path, "sqlite:///m.db", hooks)))
    assert result.returncode == 2
    assert "webhooks[0].secret: must be a str, got a int" in result.stderr
    assert "webhooks[1].secret: must be a str, got a list" in result.stderr and "feeds[0].url" in result.stderr
    assert PASSWORD not in result.stderr and "773119" not in result.stderr


def test_a_feed_url_with_credentials_is_fetched_with_basic_auth_and_shown_without_them(tmp_path: Path) -> None:
    with Site().running() as feeds:
        feeds.routes["/feed.rss"] = (200, {"Content-Type": "application/rss+xml"}, FEED.encode())
        url = feeds.url("/feed.rss").replace("http://", f"http://reader:{PASSWORD}@")
        p = pipeline(tmp_path, url, allow_private=False)
        [outcome] = poll_due(p)  # raised ValueError in the aiohttp client
        assert outcome.result == "changed", outcome.error
        [hit] = feeds.hits
    expected = "Basic " + base64.b64encode(f"reader:{PASSWORD}".encode()).decode()
    assert hit.headers["authorization"] == expected
    page = asyncio.run(get_page(create_app(p.db), "/feeds"))
    assert PASSWORD not in page and "reader:***@127.0.0.1" in page


def test_credentials_of_a_failing_feed_stay_out_of_its_error(tmp_path: Path) -> None:
    url = f"http://reader:{PASSWORD}@127.0.0.1:{closed_port()}/feed.rss?token={PASSWORD}"
    p = pipeline(tmp_path, url, allow_private=False)
    [outcome] = poll_due(p)
    assert outcome.result == "error" and outcome.error is not None
    assert "connection refused" in outcome.error and PASSWORD not in outcome.error


def test_log_lines_are_redacted_in_both_formats() -> None:
    args = (f"postgresql://u:{PASSWORD}@h/db",)
    record = logging.LogRecord("monitor.x", logging.ERROR, __file__, 1, "run.failed error=%s", args, None)
    assert PASSWORD not in HumanFormatter().format(record)
    assert PASSWORD not in JsonFormatter().format(record)


async def get_page(app: Any, path: str) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        response = await client.get(path)
        assert response.status_code == 200
        return response.text


def test_a_seed_file_dated_beyond_any_calendar_is_still_read() -> None:
    # /dev/shm (tmpfs) keeps a 64-bit mtime; ext4 and overlayfs clamp it to the year 2446.
    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        seeds = Path(folder)
        (seeds / "future.txt").write_text(GOOD, encoding="utf-8")
        (seeds / "good.txt").write_text(GOOD, encoding="utf-8")
        os.utime(seeds / "future.txt", (0, 2**50))  # year ~35 million: datetime refuses it
        if os.stat(seeds / "future.txt").st_mtime < 2**49:
            pytest.fail("this file system clamped the mtime; the test needs one that keeps it")
        scan = scan_seeds(seeds)  # raised ValueError out of the scan
    assert sorted(a.guid for a in scan.articles) == ["future.txt", "good.txt"] and scan.errors == ()
    assert next(a for a in scan.articles if a.guid == "future.txt").published is None
