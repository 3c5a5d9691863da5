"""Hot reload of a running daemon: on a config file change and on SIGHUP; an invalid config is refused
with every problem logged and the running one stays; feeds removed and added back keep their state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import FeedServer, rss
from tests.support import run_cli, wait_for

pytestmark = pytest.mark.e2e


def config_text(feeds: dict[str, str], keywords: str = '"Aleppo"') -> str:
    parts = ['[monitor]\ndatabase = "sqlite:///m.db"\npoll_interval = "1s"\njitter = 0\n']
    for name, url in feeds.items():
        parts.append(f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n')
    parts.append(f'[[watchlists]]\nname = "w"\nkeywords = [{keywords}]\n')
    return "\n".join(parts)


def feed_states(tmp_path: Path) -> dict[str, dict[str, object]]:
    query = tmp_path / "query.toml"  # the daemon's config may be invalid on purpose; the CLI reads the same db
    query.write_text('[monitor]\ndatabase = "sqlite:///m.db"\n', encoding="utf-8")
    result = run_cli("feeds", "--config", str(query), "--json")
    assert result.returncode == 0, result.stderr
    return {f["name"]: f for f in json.loads(result.stdout)}


def write(path: Path, text: str) -> None:
    # A new mtime for each write even on coarse file systems, so the daemon sees every change.
    path.write_text(text, encoding="utf-8")
    stamp = time.time() + (getattr(write, "bump", 0))
    write.bump = getattr(write, "bump", 0) + 2  # type: ignore[attr-defined]
    os.utime(path, (stamp, stamp))


def test_reload_on_change_and_sighup_refuses_invalid_keeps_state(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/a.rss", rss([{"title": "A1", "link": "http://a.test/1", "description": "Hello."}]))
    feed_server.set("/b.rss", rss([{"title": "B1", "link": "http://b.test/1", "description": "Hello."}]))
    a, b = feed_server.url("/a.rss"), feed_server.url("/b.rss")
    config = tmp_path / "monitor.toml"
    write(config, config_text({"a": a}))
    log_path = tmp_path / "daemon.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--log-format", "json", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:

        def count(word: str) -> int:
            lines = [line for line in log_path.read_text().splitlines() if line.strip()]
            return sum(word in json.loads(line)["msg"] for line in lines)

        def logged(word: str) -> bool:
            return count(word) > 0

        assert wait_for(lambda: len(feed_server.requests_to("/a.rss")) >= 1)
        # 1. The file changes: feed b is added without a restart.
        write(config, config_text({"a": a, "b": b}))
        assert wait_for(lambda: len(feed_server.requests_to("/b.rss")) >= 1), "feed b never polled"
        assert wait_for(lambda: logged("config.reloaded why=file changed"))

        # 2. An invalid config is refused with every problem; the running config stays (b is still polled).
        write(config, config_text({"a": "ftp://nope"}, keywords='"("') + "\n[monitor2]\n")
        assert wait_for(lambda: logged("config.reload_refused"))
        problems = [json.loads(line)["msg"] for line in log_path.read_text().splitlines() if "reload_refused" in line]
        assert any("feeds[0].url" in p for p in problems) and any("monitor2" in p for p in problems)
        before = len(feed_server.requests_to("/b.rss"))
        assert wait_for(lambda: len(feed_server.requests_to("/b.rss")) > before), "the running config was dropped"

        # 3. SIGHUP: feed a removed (its state kept), then added back with its validators intact.
        etag_before = feed_states(tmp_path)
        config.write_text(config_text({"b": b}), encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: logged("config.reloaded why=SIGHUP"))
        state = feed_states(tmp_path)
        assert state["a"]["active"] is False and state["a"]["etag"] == etag_before["a"]["etag"]
        reloads = count("config.reloaded")
        write(config, config_text({"a": a, "b": b}))
        assert wait_for(lambda: count("config.reloaded") > reloads)
        state = feed_states(tmp_path)
        assert state["a"]["active"] is True and state["a"]["etag"] is not None
        assert state["a"]["items_seen"] == 1
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0
