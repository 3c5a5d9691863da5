"""The seed scenario through the real daemon (``news-monitor run``) with page checks: the flash at a URL, then
the full version at the same URL while the feed item stays the same. The desk gets exactly one
``story.opened`` and one ``story.updated`` listing what was added, both signed (Standard Webhooks)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.servers import FeedServer, Receiver, rss
from tests.support import SECRET, SeedStory, wait_for

pytestmark = pytest.mark.e2e


def html(title: str, body: str) -> str:
    paras = "".join(f"<p>{p.strip()}</p>" for p in body.split("\n\n") if p.strip())
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home | World</nav><aside>Most read: "
        f"<a href='/x'>Markets</a></aside><article><h1>{title}</h1>{paras}</article></body></html>"
    )


def events(receiver: Receiver) -> list[dict[str, Any]]:
    hook = Webhook(SECRET)
    for post in receiver.all_posts():
        hook.verify(post["body"], post["headers"])
    return receiver.accepted()


def checks(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT coalesce(max(checks), 0) FROM watched_pages").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_the_daemon_reports_a_page_that_grew_at_the_same_url(
    tmp_path: Path, feed_server: FeedServer, receiver: Receiver, seed_story: SeedStory
) -> None:
    page = feed_server.url("/world/aleppo")
    item = {"title": seed_story.headline, "link": page, "description": seed_story.flash}
    feed_server.set("/wire.rss", rss([item]))
    feed_server.set("/world/aleppo", html(seed_story.headline, seed_story.flash), content_type="text/html")
    config = tmp_path / "monitor.toml"
    config.write_text(
        "\n".join([
            "[monitor]", 'database = "sqlite:///monitor.db"', "allow_private_addresses = true",
            'page_check_min = "2s"', 'page_check_max = "4s"', 'deliver_interval = "1s"',
            "", "[[feeds]]", 'name = "wire"', f'url = "{feed_server.url("/wire.rss")}"', 'interval = "1h"',
            "", "[[webhooks]]", 'name = "desk"', f'url = "{receiver.url}"', 'secret = "env:DESK_WEBHOOK_SECRET"',
            "", "[[watchlists]]", 'name = "syria"', 'keywords = ["Aleppo"]', 'webhooks = ["desk"]',
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    env = {**os.environ, "DESK_WEBHOOK_SECRET": SECRET}
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)],
                              cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        assert wait_for(lambda: len(events(receiver)) >= 1, 40), "timed out waiting for story.opened"
        assert wait_for(lambda: checks(tmp_path / "monitor.db") >= 1, 40), "no page check of the flash"
        feed_server.set("/world/aleppo", html(seed_story.headline, seed_story.full), content_type="text/html")
        assert wait_for(lambda: len(events(receiver)) >= 2, 40), "timed out waiting for story.updated"
        before = checks(tmp_path / "monitor.db")
        assert wait_for(lambda: checks(tmp_path / "monitor.db") >= before + 2, 30), "not two more page checks"
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        log.close()
    got = events(receiver)
    assert [e["type"] for e in got] == ["story.opened", "story.updated"], json.dumps(got, indent=1)[:2000]
    update = got[1]["update"]
    added = " ".join(update["added"])
    assert "34,000 people" in added and "Staffan de Mistura" in added
    assert "holed up in a small enclave" not in added
    assert update["article"]["via"] == "page" and update["article"]["url"] == page
    assert len(feed_server.requests_to("/wire.rss")) == 1  # the feed item never changed, nor was re-read
