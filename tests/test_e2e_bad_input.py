"""Bad input gets a clear error that names the feed, file or key, and loses nothing; the daemon keeps running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import FeedServer, Receiver, rss
from tests.support import SECRET, SeedStory, run_cli
from tests.support.e2e import UNRELATED, write_config

pytestmark = pytest.mark.e2e


def feeds_by_name(config: Path) -> dict[str, dict[str, object]]:
    result = run_cli("feeds", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    return {f["name"]: f for f in json.loads(result.stdout)}


def test_broken_feeds_and_latin1_seed_are_reported_and_the_rest_goes_on(
    tmp_path: Path, feed_server: FeedServer, receiver: Receiver, seed_story: SeedStory
) -> None:
    feed_server.set("/good.rss", rss(UNRELATED))
    feed_server.set("/html", "<html><body><h1>Service unavailable</h1></body></html>", content_type="text/html")
    feed_server.set("/slow.rss", rss(UNRELATED), delay=4.0)
    feed_server.set("/gone.rss", "not here", status=404, content_type="text/plain")
    feeds = {
        name: feed_server.url(path)
        for name, path in (
            ("good", "/good.rss"),
            ("html", "/html"),
            ("slow", "/slow.rss"),
            ("gone", "/gone.rss"),
        )
    }
    config = write_config(tmp_path, feeds, receiver, fetch_timeout="1s")
    seeds = tmp_path / "seeds"
    (seeds / "latin1.txt").write_bytes("Caf\xe9 owner says Aleppo\n\nA developing story.\n".encode("latin-1"))
    (seeds / "aleppo.txt").write_text(f"{seed_story.headline}\n\n{seed_story.flash}\n", encoding="utf-8")

    result = run_cli("once", "--config", str(config))
    assert result.returncode == 1  # some sources failed: cron sees it
    assert "latin1.txt" in result.stderr and "not UTF-8 (byte 0xe9 at offset 3)" in result.stderr

    state = feeds_by_name(config)
    assert state["good"]["status"] == "ok" and state["good"]["items_seen"] == 2
    assert "not an RSS/Atom/RDF/JSON feed" in str(state["html"]["last_error"])
    assert "feed 'html'" in str(state["html"]["last_error"])
    assert "timed out" in str(state["slow"]["last_error"])
    assert "HTTP 404" in str(state["gone"]["last_error"])
    for name in ("html", "slow", "gone"):
        assert state[name]["status"] == "retrying" and state[name]["failures"] == 1
    # The good seed still made its alert: nothing was lost to the bad ones.
    assert [e["type"] for e in receiver.accepted()] == ["story.opened"]

    # --strict is kept for old crontabs and changes nothing: a pass with failing feeds exits 1 either way.
    assert run_cli("once", "--config", str(config), "--strict").returncode == 1
    assert feeds_by_name(config)["gone"]["failures"] == 2


def test_config_with_two_mistakes_reports_both(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(
        '[monitor]\ndatabase = "sqlite:///x.db"\npoll_interval = "ten minutes"\n\n'
        '[[feeds]]\nname = "world"\nurl = "ftp://example.org/feed"\n',
        encoding="utf-8",
    )
    result = run_cli("check-config", "--config", str(config))
    assert result.returncode == 2
    assert "2 problem(s)" in result.stderr
    assert "monitor.poll_interval: must be a duration like '30s', '5m', '2h', got: 'ten minutes'" in result.stderr
    assert "feeds[0].url: must be an http(s) URL, got: 'ftp://example.org/feed'" in result.stderr


def test_daemon_runs_alerts_and_stops_cleanly_on_sigterm(
    tmp_path: Path, feed_server: FeedServer, receiver: Receiver, seed_story: SeedStory
) -> None:
    feed_server.set("/html", "<html>nope</html>", content_type="text/html")
    config = write_config(tmp_path, {"html": feed_server.url("/html")}, receiver)
    (tmp_path / "seeds" / "aleppo.txt").write_text(f"{seed_story.headline}\n\n{seed_story.flash}\n", encoding="utf-8")
    env = {**os.environ, "DESK_WEBHOOK_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not receiver.accepted():
            time.sleep(0.2)
        assert [e["type"] for e in receiver.accepted()] == ["story.opened"]
        assert proc.poll() is None, "the daemon died on a broken feed"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "daemon.stopped" in err
    assert "poll.failed feed=html" in err
