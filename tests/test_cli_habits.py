"""Habits a cron job and a shell user expect from the command: exit codes that say whether the pass worked,
pipes that end quietly when their reader goes away, and tables that explain their marks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.alerts import payload as payloads
from monitor.config import load_config
from monitor.store import stories as story_store
from monitor.store.db import Database
from tests.servers import FeedServer
from tests.support import SECRET, SeedStory, run_cli

pytestmark = pytest.mark.e2e


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp: Path, feeds: dict[str, str], *, webhook: str | None = None, **monitor: str) -> Path:
    (tmp / "seeds").mkdir(exist_ok=True)
    lines = ["[monitor]", 'database = "sqlite:///monitor.db"', 'seeds_dir = "seeds"']
    lines += [f"{k} = {v}" for k, v in monitor.items()]
    for name, url in feeds.items():
        lines += ["", "[[feeds]]", f'name = "{name}"', f'url = "{url}"']
    if webhook:
        lines += ["", "[[webhooks]]", 'name = "desk"', f'url = "{webhook}"', 'secret = "env:DESK_WEBHOOK_SECRET"']
    lines += ["", "[[watchlists]]", 'name = "syria"', 'keywords = ["Aleppo", "Idlib"]']
    lines += ['webhooks = ["desk"]'] if webhook else []
    path = tmp / "monitor.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- exit codes for cron ------------------------------------------------------------------------------------


def test_once_exits_1_when_every_feed_is_unreachable_and_lists_them(tmp_path: Path) -> None:
    port = closed_port()
    config = write_config(tmp_path, {"wire": f"http://127.0.0.1:{port}/a.rss", "desk": f"http://127.0.0.1:{port}/b"})
    result = run_cli("once", "--config", str(config), "--flush-timeout", "1s")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "feeds: 2 polled, 2 failed" in result.stdout
    table = result.stdout[result.stdout.index("failed feed") :]
    assert "wire" in table and "desk" in table and "127.0.0.1" in table


def test_once_exits_0_when_the_pass_succeeded(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/ok.rss", "<rss version='2.0'><channel><title>t</title></channel></rss>")
    config = write_config(tmp_path, {"ok": feed_server.url("/ok.rss")})
    result = run_cli("once", "--config", str(config), "--flush-timeout", "1s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "feeds: 1 polled, 0 failed" in result.stdout and "failed feed" not in result.stdout


def test_once_exits_1_when_a_delivery_of_the_pass_failed(tmp_path: Path, seed_story: SeedStory) -> None:
    config = write_config(tmp_path, {}, webhook=f"http://127.0.0.1:{closed_port()}/hook")
    (tmp_path / "seeds" / "aleppo.txt").write_text(f"{seed_story.headline}\n\n{seed_story.flash}\n", encoding="utf-8")
    result = run_cli("once", "--config", str(config), "--flush-timeout", "1s")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 waiting for a retry" in result.stdout


def test_once_exits_2_on_a_config_error_and_on_bad_usage(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[monitor]\ndatabase = "sqlite:///m.db"\npoll_interval = "soon"\n', encoding="utf-8")
    assert run_cli("once", "--config", str(bad)).returncode == 2
    assert run_cli("once", "--flush-timeout", "whenever").returncode == 2


def test_help_and_readme_state_the_exit_codes() -> None:
    help_text = run_cli("once", "--help").stdout
    assert "0 the pass succeeded; 1 a feed, seed file or delivery failed" in " ".join(help_text.split())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "`once` exits 0 when the pass succeeded, 1 when a feed, seed file or delivery of the pass failed" in (
        " ".join(readme.split())
    )


# --- quiet pipes --------------------------------------------------------------------------------------------


def outbox_of(config: Path, n: int) -> None:
    """``n`` pending deliveries, written straight into the outbox (far more than a pipe buffer holds)."""
    db = Database(load_config(config, env={"DESK_WEBHOOK_SECRET": SECRET}).monitor.database)
    now = datetime.now(UTC)
    with db.write() as conn:
        tx = story_store.IngestTx(conn)
        for i in range(n):
            body = payloads.feed_event(
                event_id=f"evt_{i:06d}", type_="feed.failing", created_at=now, feed={"name": "x", "url": "u"}, detail={}
            )
            tx.insert_event(f"evt_{i:06d}", "feed.failing", None, None, now, body, ("desk",))
    db.close()


def piped_into_head(*args: str) -> tuple[int, str, str]:
    """``news-monitor ARGS | head -3`` through a real pipe; the command's exit code, head's output, its stderr."""
    env = {**os.environ, "DESK_WEBHOOK_SECRET": SECRET, "COLUMNS": "200"}
    cmd = subprocess.Popen(
        [sys.executable, "-m", "monitor", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert cmd.stdout is not None and cmd.stderr is not None
    head = subprocess.run(["head", "-3"], stdin=cmd.stdout, capture_output=True, text=True, timeout=60)
    cmd.stdout.close()  # only head holds the read end now: when it exits, our writes fail
    with cmd.stderr:
        err = cmd.stderr.read().decode()
    return cmd.wait(timeout=60), head.stdout, err


def test_a_long_listing_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    config = write_config(tmp_path, {}, webhook="http://127.0.0.1:9/hook")
    outbox_of(config, 3000)
    code, out, err = piped_into_head("deliveries", "list", "--all", "--config", str(config))
    assert len(out.splitlines()) == 3 and "evt_000000" in out
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err, err
    assert code == 0


def test_json_output_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    config = write_config(tmp_path, {}, webhook="http://127.0.0.1:9/hook")
    outbox_of(config, 3000)
    code, out, err = piped_into_head("deliveries", "--json", "--config", str(config))
    assert out.startswith("{") and "Traceback" not in err and code == 0, err


# --- tables that explain themselves -------------------------------------------------------------------------


def test_stories_explains_its_star(tmp_path: Path, seed_story: SeedStory) -> None:
    config = write_config(tmp_path, {})
    (tmp_path / "seeds" / "aleppo.txt").write_text(f"{seed_story.headline}\n\n{seed_story.flash}\n", encoding="utf-8")
    assert run_cli("once", "--config", str(config), "--flush-timeout", "1s").returncode == 0
    out = run_cli("stories", "--config", str(config)).stdout
    assert "open*" in out
    assert "* developing: a version carries a newsroom marker" in out


def test_feeds_status_turns_failing_when_the_event_is_sent(tmp_path: Path) -> None:
    """The table says "failing" from the failure that sends feed.failing (feed_failing_after), not before."""
    config = write_config(tmp_path, {"wire": f"http://127.0.0.1:{closed_port()}/a.rss"}, feed_failing_after="2")
    seen = []
    for _ in range(2):
        run_cli("once", "--config", str(config), "--flush-timeout", "1s")
        [state] = json.loads(run_cli("feeds", "--config", str(config), "--json").stdout)
        seen.append((state["failures"], state["status"]))
    assert seen == [(1, "retrying"), (2, "failing")]
    events = run_cli("deliveries", "--all", "--json", "--config", str(config)).stdout
    assert [d["type"] for d in json.loads(events)["deliveries"]] == ["feed.failing"]
    table = run_cli("feeds", "--config", str(config)).stdout
    assert "failing" in table


# --- CI that proves what it claims --------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def test_with_ci_true_a_skipped_test_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "import pytest\n\ndef test_ok():\n    pass\n\n"
        '@pytest.mark.skip(reason="no chromium here")\ndef test_browser():\n    pass\n',
        encoding="utf-8",
    )
    args = [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-c", os.devnull, str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ci = subprocess.run(args, capture_output=True, text=True, env={**env, "CI": "true"}, cwd=REPO, timeout=120)
    assert ci.returncode == 1, ci.stdout
    assert "CI=true: skipped tests fail the run" in ci.stdout and "test_browser: Skipped: no chromium here" in ci.stdout
    local = subprocess.run(args, capture_output=True, text=True, env={**env, "CI": "false"}, cwd=REPO, timeout=120)
    assert local.returncode == 0, local.stdout


def ci_run(tmp_path: Path, apt_get_exit: int) -> subprocess.CompletedProcess[str]:
    """``.ci/run`` with CI=true in a bare copy (no ../shared/data), on a PATH with a stand-in ``apt-get``
    and none of chromium or systemd-analyze: the real apt is never called."""
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    (repo / ".ci" / "run").write_text((REPO / ".ci" / "run").read_text(encoding="utf-8"), encoding="utf-8")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in ("ls", "dirname"):
        (bin_ / tool).symlink_to(str(Path(subprocess.check_output(["which", tool], text=True).strip())))
    for tool, script in (("apt-get", f"exit {apt_get_exit}"), ("id", "echo 0")):  # root, as on a CI machine
        (bin_ / tool).write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
        (bin_ / tool).chmod(0o755)
    env = {"PATH": str(bin_), "CI": "true", "HOME": str(tmp_path)}
    bash = subprocess.check_output(["which", "bash"], text=True).strip()
    return subprocess.run([bash, str(repo / ".ci" / "run")], capture_output=True, text=True, env=env, timeout=60)


def test_ci_run_with_ci_true_fails_when_apt_fails(tmp_path: Path) -> None:
    result = ci_run(tmp_path, apt_get_exit=100)
    assert result.returncode == 1 and "ci: apt-get update failed" in result.stderr
    assert not (tmp_path / "repo" / ".venv").exists()  # stopped before installing anything


def test_ci_run_with_ci_true_fails_when_a_system_package_is_missing(tmp_path: Path) -> None:
    result = ci_run(tmp_path, apt_get_exit=0)
    assert result.returncode == 1 and "ci: Chromium is missing" in result.stderr, result.stderr
    assert not (tmp_path / "repo" / ".venv").exists()


def test_ci_run_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = readme.split("Run the test suite (what `.ci/run` runs):")[1].split("```sh\n")[1].split("\n")[0]
    assert (REPO / ".ci" / "run").read_text(encoding="utf-8").rstrip().endswith(command)
