"""Logs: JSON lines under systemd (JOURNAL_STREAM) or by option, human otherwise; secrets never logged."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.service.logs import choose_format
from tests.servers import FeedServer, Receiver
from tests.support import SECRET, SeedStory, run_cli


def test_format_choice(monkeypatch: object) -> None:
    import os

    saved = os.environ.pop("JOURNAL_STREAM", None)
    try:
        assert choose_format("auto") == "human"
        os.environ["JOURNAL_STREAM"] = "8:1234"
        assert choose_format("auto") == "json"
        assert choose_format("human") == "human"
    finally:
        os.environ.pop("JOURNAL_STREAM", None)
        if saved is not None:
            os.environ["JOURNAL_STREAM"] = saved


def test_json_lines_with_event_words_and_no_secret(
    tmp_path: Path, feed_server: FeedServer, receiver: Receiver, seed_story: SeedStory
) -> None:
    receiver.script = [500]  # a failed delivery is logged with its error: the secret must not be in it
    feed_server.set("/x", "not a feed", content_type="text/plain")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text(f"{seed_story.headline}\n\n{seed_story.flash}\n", encoding="utf-8")
    config = tmp_path / "m.toml"
    config.write_text(
        f'[monitor]\ndatabase = "sqlite:///m.db"\nseeds_dir = "seeds"\n\n[[feeds]]\nname = "x"\n'
        f'url = "{feed_server.url("/x")}"\n\n[[webhooks]]\nname = "desk"\nurl = "{receiver.url}"\n'
        f'secret = "env:DESK_WEBHOOK_SECRET"\n\n'
        f'[[watchlists]]\nname = "w"\nkeywords = ["Aleppo"]\nwebhooks = ["desk"]\n',
        encoding="utf-8",
    )
    result = run_cli("--log-format", "json", "once", "--config", str(config), "--flush-timeout", "15s")
    assert result.returncode == 1, result.stderr  # feed "x" is missing on the server: the pass failed
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    words = [entry["msg"].split()[0] for entry in lines]
    assert "poll.failed" in words and "deliver.retry" in words and "deliver.ok" in words
    assert all({"ts", "level", "logger", "msg"} <= set(entry) for entry in lines)
    secret_body = SECRET.removeprefix("whsec_")
    for stream in (result.stdout, result.stderr):
        assert SECRET not in stream and secret_body not in stream
    assert SECRET not in run_cli("check-config", "--config", str(config), "--json").stdout
