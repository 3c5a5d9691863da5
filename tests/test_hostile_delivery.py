"""Hostile receivers, titles and configs on the delivery side: a receiver's answer is read only
up to a few KiB and every delivery has a total deadline; chat formats escape what a feed sends; a story's
event never waits on a dead predecessor; bad secrets stop at config load. Real receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select

from monitor.alerts.delivery import Outcome, post_event
from monitor.alerts.formats import discord, discord_escape, slack, slack_escape
from monitor.config import parse_config, public_listen_warning
from monitor.core.model import Article
from monitor.errors import ConfigError, MonitorError
from monitor.service import http as http_listener
from monitor.service.pipeline import gone_from_this_host
from monitor.sources.fetch import build_client
from monitor.store import outbox
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.schema import deliveries, events
from tests.servers import Receiver, running
from tests.support import SECRET, Clock, pipeline_for, run_cli

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LEDES = [
    "A fire broke out at a warehouse on Keowee Street in Dayton, Ohio, fire chief Jeffrey Payne said.",
    "Heavy rain flooded Route 9 near Brattleboro, state police said on Monday.",
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return str(request.getfixturevalue("pg_url"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_daemon(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config), "--log-format", "human"],
        env={**os.environ, "DESK_WEBHOOK_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --- item 16: secrets validated at load; a public listener is warned about ------------------------------


@pytest.mark.parametrize("secret", ["whsec_not base64!!", "whsec_", "whsec_abc"])
def test_a_malformed_whsec_secret_is_refused_at_load_without_echoing_it(tmp_path: Path, secret: str) -> None:
    raw = {"webhooks": [{"name": "desk", "url": "http://127.0.0.1:9/hook", "secret": secret}]}
    with pytest.raises(ConfigError) as err:
        parse_config(raw, base=tmp_path)
    (problem,) = err.value.problems
    assert problem.startswith("webhooks[0].secret: ")
    if secret != "whsec_":
        assert secret[len("whsec_") :] not in problem  # the secret is never echoed


def test_a_malformed_secret_from_the_environment_is_refused_too(tmp_path: Path) -> None:
    raw = {"webhooks": [{"name": "desk", "url": "http://127.0.0.1:9/hook", "secret": "env:HOOK_KEY"}]}
    with pytest.raises(ConfigError, match=r"webhooks\[0\]\.secret: starts with 'whsec_'"):
        parse_config(raw, base=tmp_path, env={"HOOK_KEY": "whsec_%%%%"})
    good = parse_config(raw, base=tmp_path, env={"HOOK_KEY": SECRET})
    assert good.webhooks[0].secret == SECRET
    plain = parse_config(raw, base=tmp_path, env={"HOOK_KEY": "a plain shared secret"})  # raw key bytes
    assert plain.webhooks[0].secret == "a plain shared secret"


def test_check_config_refuses_a_bad_secret_with_its_path_and_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[monitor]\ndatabase = "sqlite:///m.db"\n\n'
        '[[webhooks]]\nname = "desk"\nurl = "http://127.0.0.1:9/hook"\nsecret = "whsec_not base64!!"\n'
    )
    for command in ("check-config", "once"):
        result = run_cli(command, "--config", str(config))
        assert result.returncode == 2, (command, result.stderr)  # a config error, not a crash
        assert "webhooks[0].secret" in result.stderr
        assert "not base64!!" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("listen", "public"),
    [
        ("127.0.0.1:8080", False),
        ("127.8.9.1:8080", False),
        ("[::1]:8080", False),
        ("localhost:8080", False),
        ("0.0.0.0:8080", True),
        ("[::]:8080", True),
        ("192.168.1.10:8080", True),
        ("news.example.org:8080", True),
    ],
)
def test_a_non_loopback_listen_address_is_called_public(listen: str, public: bool) -> None:
    warning = public_listen_warning(listen)
    assert (warning is not None) == public
    if warning:
        assert "monitor.http_listen" in warning and "reverse proxy" in warning


def test_check_config_warns_about_a_public_listener(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[monitor]\ndatabase = "sqlite:///m.db"\nhttp_listen = "0.0.0.0:8080"\n')
    result = run_cli("check-config", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "warning: monitor.http_listen: '0.0.0.0:8080' is not a loopback address" in result.stderr
    config.write_text('[monitor]\ndatabase = "sqlite:///m.db"\nhttp_listen = "127.0.0.1:8080"\n')
    result = run_cli("check-config", "--config", str(config))
    assert result.returncode == 0 and "warning" not in result.stderr


def test_the_listener_warns_at_start_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # 192.0.2.1 (TEST-NET-1) is no local address: the bind fails, so the test never listens publicly,
    # and the warning must already be in the log by then.
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    with caplog.at_level(logging.WARNING, "monitor.http"), pytest.raises(MonitorError):
        asyncio.run(http_listener.start("192.0.2.1:8080", db))
    db.close()
    assert any("http.public" in r.getMessage() and "192.0.2.1:8080" in r.getMessage() for r in caplog.records)


# --- item 14: chat formats escape what a feed or seed sends ---------------------------------------------

HOSTILE = "@everyone <!channel> <https://phish.example/login|Click to verify>"
LINK_INJECTION = "[Click to verify](https://phish.example/login) @here **now**"


def hostile_payload(title: str, url: str = "https://news.example/a") -> dict[str, Any]:
    return {
        "id": "evt_1",
        "type": "story.updated",
        "created_at": "2026-11-25T00:00:00Z",
        "sequence": 2,
        "story": {"id": "st_1", "title": title, "url": url},
        "update": {
            "seq": 2,
            "article": {"url": url},
            "added": [title, "# a heading\n- a list\n> a quote"],
            "facts": {"numbers": [], "quotes": [title], "names": []},
        },
    }


def slack_texts(message: dict[str, Any]) -> list[str]:
    """Every string Slack parses as mrkdwn: the top-level text and each mrkdwn object."""
    out = [message["text"]]
    for block in message["blocks"]:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if obj and obj["type"] == "mrkdwn":
                out.append(obj["text"])
    return out


def test_slack_escapes_its_control_characters_in_every_mrkdwn_text() -> None:
    message = slack(hostile_payload(HOSTILE))
    texts = slack_texts(message)
    assert "&lt;!channel&gt; &lt;https://phish.example/login|Click to verify&gt;" in message["text"]
    for text in texts[:-1]:  # the context line ends with our own link, checked below
        assert "<" not in text and ">" not in text, text
    assert all("&lt;!channel&gt;" in t for t in texts[:3])
    assert slack_escape("a & b <c>") == "a &amp; b &lt;c&gt;"
    # The one link we build ourselves points at the article, and a hostile URL cannot break out of it.
    context = slack(hostile_payload("t", url="https://x.example/a|b><!channel>&c=1"))["blocks"][-1]
    assert context["elements"][0]["text"].endswith("<https://x.example/a%7Cb%3E%3C!channel%3E&amp;c=1|source>")
    assert "<javascript" not in str(slack(hostile_payload("t", url="javascript:alert(1)")))


def test_discord_pings_nobody_and_renders_no_injected_link() -> None:
    for title in (HOSTILE, LINK_INJECTION):
        message = discord(hostile_payload(title))
        assert message["allowed_mentions"] == {"parse": []}
        embed = message["embeds"][0]
        for text in (message["content"], embed["description"], embed["fields"][0]["value"], embed["title"]):
            assert "@everyone" not in text and "@here" not in text, text
        for text in (message["content"], embed["description"], embed["fields"][0]["value"]):
            markdown = re.sub(r"\\.", "", text)  # what Discord parses: escaped characters are plain text
            assert "[" not in markdown and "<" not in markdown and "*" not in markdown, text
    assert discord_escape("[a](http://b) *c* `d` <@123>") == r"\[a\]\(http://b\) \*c\* \`d\` \<@123\>"
    assert discord_escape("# h\n- l\n> q") == "\\# h\n\\- l\n\\> q"
    assert "javascript" not in str(discord(hostile_payload("t", url="javascript:alert(1)"))["embeds"][0])


def test_a_hostile_seed_title_reaches_real_chat_receivers_escaped(tmp_path: Path, receiver: Receiver) -> None:
    raw = {
        "monitor": {"database": "sqlite:///m.db"},
        "webhooks": [
            {"name": "slack", "url": receiver.url, "format": "slack"},
            {"name": "discord", "url": receiver.url, "format": "discord"},
        ],
        "watchlists": [{"name": "all", "regex": ["."], "webhooks": ["slack", "discord"]}],
    }
    config = parse_config(raw, base=tmp_path)
    p = pipeline_for(config, Clock(T0))
    body = "A fire broke out at a warehouse in Dayton, the fire chief said.\n\nThis is a developing story."
    p.ingestor.ingest(Article("seeds", "x.txt", HOSTILE, body), T0)

    async def go() -> None:
        await p.deliver()
        await p.aclose()

    asyncio.run(go())
    posts = [json.loads(post["body"]) for post in receiver.all_posts()]
    assert len(posts) == 2
    slack_msg = next(m for m in posts if "blocks" in m)
    discord_msg = next(m for m in posts if "embeds" in m)
    assert "&lt;!channel&gt; &lt;https://phish.example/login|Click to verify&gt;" in slack_msg["text"]
    assert discord_msg["allowed_mentions"] == {"parse": []}
    assert "@\u200beveryone \\<!channel\\> \\<https://phish.example/login\\|Click" in discord_msg["content"]


# --- item 4: a receiver's answer is bounded in size and in time -------------------------------------------


class HostileReceiver:
    """A raw HTTP/1.1 receiver on 127.0.0.1 that reads the POST and then misbehaves:

    - ``huge``: answers ``status`` declaring 1 GB and streams it until the client hangs up;
    - ``trickle_head``: sends its status line one byte every ``every`` seconds (never finishing);
    - ``trickle_body``: answers ``status`` at once, then its body one byte every ``every`` seconds.

    Each connection stops by itself when the client hangs up or after ``give_up`` seconds.
    """

    def __init__(self, mode: str, status: int = 200, every: float = 0.2, give_up: float = 20.0) -> None:
        self.mode, self.status, self.every, self.give_up = mode, status, every, give_up
        self.sent: list[int] = []  # bytes of answer written per connection before the client hung up
        self.hung_up: list[float] = []  # seconds from the request to the client hanging up
        self.posts = 0
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                outer._serve(self.rfile, self.connection)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.server.daemon_threads = True
        self.server.allow_reuse_address = True
        self.server.server_bind()
        self.server.server_activate()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _serve(self, rfile: Any, conn: socket.socket) -> None:
        length = 0
        while (line := rfile.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        rfile.read(length)
        self.posts += 1
        start, sent = time.monotonic(), 0
        try:
            if self.mode == "huge":
                conn.sendall(f"HTTP/1.1 {self.status} X\r\nContent-Length: {2**30}\r\n\r\n".encode())
                chunk = b"x" * 65536
                while sent < 2**30 and time.monotonic() - start < self.give_up:
                    conn.sendall(chunk)
                    sent += len(chunk)
            else:
                if self.mode == "trickle_body":
                    conn.sendall(f"HTTP/1.1 {self.status} X\r\nContent-Length: 1000\r\n\r\n".encode())
                line = f"HTTP/1.1 {self.status} X\r\n".encode() if self.mode == "trickle_head" else b"y" * 1000
                for byte in line:
                    if time.monotonic() - start > self.give_up:
                        break
                    conn.sendall(bytes([byte]))
                    sent += 1
                    time.sleep(self.every)
        except OSError:  # the client hung up: what we wanted
            pass
        self.sent.append(sent)
        self.hung_up.append(time.monotonic() - start)

    def __enter__(self) -> HostileReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def post(url: str, deadline: float = 30.0, timeout: float = 10.0) -> Outcome:
    async def go() -> Outcome:
        async with build_client("test", 10.0) as client:
            return await post_event(
                client,
                url=url,
                fmt="json",
                secret=SECRET,
                event_id="evt_1",
                payload={"id": "evt_1"},
                timeout=timeout,
                now=time.time(),
                deadline=deadline,
            )

    return asyncio.run(go())


@pytest.mark.parametrize("status", [200, 500])
def test_a_receiver_answering_a_gigabyte_is_read_a_few_kib_and_hung_up_on(status: int) -> None:
    with HostileReceiver("huge", status=status) as hostile:
        outcome = post(hostile.url)
        deadline = time.monotonic() + 10
        while not hostile.sent and time.monotonic() < deadline:
            time.sleep(0.05)
    assert outcome.delivered == (status == 200) and outcome.status == status
    if status == 500:  # retried later, with the start of the answer as its error
        assert not outcome.permanent and outcome.error == f"HTTP 500 X: {'x' * 200}"
    # The client hung up after a few KiB: what the server got out is what fits in the socket buffers.
    (sent,) = hostile.sent
    assert sent < 32 * 1024 * 1024, f"{sent:,} bytes were accepted"
    assert hostile.hung_up[0] < 5


def test_a_receivers_answer_cannot_forge_log_lines(receiver: Receiver) -> None:
    receiver.script = [(500, {})]
    receiver.answer = b"oops\n2026-11-26 12:00:00 INFO deliver.ok event=evt_forged\x1b[2J"
    outcome = post(receiver.url)
    assert (
        outcome.error == "HTTP 500 Internal Server Error: oops 2026-11-26 12:00:00 INFO deliver.ok event=evt_forged [2J"
    )


def test_a_receiver_trickling_its_status_line_fails_at_the_deadline() -> None:
    with HostileReceiver("trickle_head", every=0.2) as hostile:
        started = time.monotonic()
        outcome = post(hostile.url, deadline=1.5, timeout=1.0)  # each byte comes well inside the 1s timeout
        took = time.monotonic() - started
    assert not outcome.delivered and not outcome.permanent and outcome.status is None
    assert outcome.error == "no answer within the 1.5s delivery deadline"
    assert 1.4 < took < 4


def test_a_receiver_trickling_its_body_after_a_200_has_delivered() -> None:
    with HostileReceiver("trickle_body", every=0.2) as hostile:
        started = time.monotonic()
        outcome = post(hostile.url, deadline=30.0, timeout=1.0)
        took = time.monotonic() - started
    assert outcome.delivered and outcome.status == 200
    assert took < 2 + 2  # the body is waited for at most ANSWER_READ_SECONDS


def test_a_trickling_receiver_holds_up_no_healthy_one(tmp_path: Path, receiver: Receiver) -> None:
    with HostileReceiver("trickle_head", every=0.2) as hostile:
        raw = {
            "monitor": {"database": "sqlite:///m.db", "deliver_interval": "1s"},
            "webhooks": [
                {"name": "slow", "url": hostile.url, "timeout": "1s", "deadline": "3s"},
                {"name": "desk", "url": receiver.url},
            ],
            "watchlists": [{"name": "all", "regex": ["."], "webhooks": ["slow", "desk"]}],
        }
        config = parse_config(raw, base=tmp_path)
        clock = Clock(T0)
        p = pipeline_for(config, clock)
        body = "{lede}\n\nThis is a developing story."
        p.ingestor.ingest(Article("seeds", "a.txt", "Fire in Dayton", body.format(lede=LEDES[0])), T0)

        async def go() -> tuple[float, float, int, int]:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            first = await p.deliver()  # desk answers at once; slow is left in flight
            t1 = loop.time() - t0
            p.ingestor.ingest(Article("seeds", "b.txt", "Flood on Route 9", body.format(lede=LEDES[1])), T0)
            second = await p.deliver()  # the new event goes to desk while slow still trickles
            t2 = loop.time() - t0
            await p.aclose()  # waits for slow's attempt to end at its deadline
            return t1, t2, first.delivered, second.delivered

        t1, t2, first, second = asyncio.run(go())
        assert hostile.posts == 1  # slow got no second claim while its first attempt was in flight
    assert (first, second) == (1, 1) and len(receiver.accepted()) == 2
    assert t1 < 1.5 and t2 < 2.5, (t1, t2)  # neither pass waited for the 3s deadline
    slow_rows = [d for d in outbox.list_deliveries(p.db, ("pending",)) if d.webhook == "slow"]
    assert [d.attempts for d in slow_rows] == [1, 0]  # the second waits for the next claim
    assert slow_rows[0].last_error == "no answer within the 3s delivery deadline"
    assert slow_rows[0].next_attempt_at > T0  # retried per the usual backoff


def test_a_deadline_shorter_than_the_timeout_is_refused(tmp_path: Path) -> None:
    raw = {"webhooks": [{"name": "d", "url": "http://127.0.0.1:9/h", "timeout": "20s", "deadline": "5s"}]}
    with pytest.raises(ConfigError, match=r"webhooks\[0\]\.deadline: must be at least the timeout \(20s\)"):
        parse_config(raw, base=tmp_path)
    raw["webhooks"][0]["timeout"] = "45s"
    del raw["webhooks"][0]["deadline"]
    assert parse_config(raw, base=tmp_path).webhooks[0].deadline == 45.0


# --- item 11: a story's event never waits on dead predecessors, nor on a killed instance -----------------


def _rows(db_path: Path) -> list[Any]:
    if not db_path.exists():
        return []
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.connect() as conn:
        if not inspect(conn).has_table("deliveries"):  # the daemon has not created its schema yet
            return []
        rows = conn.execute(
            select(
                deliveries.c.webhook,
                deliveries.c.status,
                deliveries.c.attempts,
                deliveries.c.last_error,
                deliveries.c.lease_owner,
                events.c.story_seq,
            ).join(events, events.c.id == deliveries.c.event_id)
        ).all()
    engine.dispose()
    return list(rows)


def _wait_for(predicate: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def test_fault_scenario_a_sigkill_leaves_no_delivery_pending(tmp_path: Path) -> None:
    """desk down, then 503 + Retry-After, then 200; a second receiver answering 400; the daemon SIGKILLed
    while it sends to the 400 receiver, and restarted: every delivery to the 400 receiver ends dead within
    seconds (not after the killed instance's 2-minute lease), and desk gets every event in story order."""
    desk_port = free_port()
    bad = Receiver()
    bad.script = [400] * 100
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    config = tmp_path / "m.toml"
    config.write_text(
        '[monitor]\ndatabase = "sqlite:///m.db"\nseeds_dir = "seeds"\nseeds_interval = "1s"\n'
        'deliver_interval = "1s"\n\n'  # delivery_lease stays at its default (2 minutes)
        f'[[webhooks]]\nname = "desk"\nurl = "http://127.0.0.1:{desk_port}/hook"\ntimeout = "5s"\n\n'
        f'[[webhooks]]\nname = "bad"\nurl = "{bad.url}"\ntimeout = "10s"\n\n'
        '[[watchlists]]\nname = "all"\nregex = ["."]\nwebhooks = ["desk", "bad"]\n'
    )
    story = seeds / "s.txt"

    def version(extra: str) -> None:
        story.write_text(f"Warehouse fire in Dayton\n\n{LEDES[0]}{extra}\n\nThis is a developing story.\n")

    def bad_rows() -> list[Any]:
        return [r for r in _rows(tmp_path / "m.db") if r.webhook == "bad"]

    with running(bad):
        version("")
        proc = start_daemon(config)
        try:
            assert _wait_for(lambda: [r.status for r in bad_rows()] == ["dead"], 30), bad_rows()
            bad.delay = 5.0  # the next POST to it is in flight when the daemon is killed
            version(" Crews rescued 7 workers from the roof.")
            assert _wait_for(lambda: bad.started() >= 2, 30), "the second event was never sent"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=10)
        leased = [r for r in bad_rows() if r.status == "pending"]
        assert len(leased) == 1 and leased[0].lease_owner == f"{socket.gethostname()[:40]}:{proc.pid}"
        bad.delay = 0.0
        desk = Receiver(desk_port)
        desk.script = [(503, {"Retry-After": "1"})]
        with running(desk):
            version(" Crews rescued 9 workers from the roof. The fire chief said the roof had collapsed.")
            proc = start_daemon(config)
            try:
                settled = _wait_for(
                    lambda: (
                        {(r.webhook, r.status) for r in _rows(tmp_path / "m.db")}
                        == {("bad", "dead"), ("desk", "delivered")}
                    ),
                    20,
                )
            finally:
                proc.send_signal(signal.SIGTERM)
                _, err = proc.communicate(timeout=30)
            rows = _rows(tmp_path / "m.db")
            assert settled, rows
            assert "deliver.leases_recovered" in err
            seqs = [e["sequence"] for e in desk.accepted()]
    assert len(rows) == 6 and seqs == sorted(seqs) == [1, 2, 3]


def test_dead_or_delivered_predecessors_hold_nothing_back(db_url: str) -> None:
    """The ordering rule itself, on SQLite and on a real PostgreSQL."""
    db = Database(db_url)
    with story_store.ingest_transaction(db) as tx:
        tx.create_story("st_1", "story", None, T0)
        for seq in (1, 2, 3, 4):
            when = T0 + timedelta(seconds=seq)
            tx.insert_event(f"evt_{seq}", "story.updated", "st_1", seq, when, {"id": f"evt_{seq}"}, ("bad", "desk"))
    now = T0 + timedelta(minutes=1)
    first = outbox.claim_due(db, now, "a", 120)
    assert [(d.event_id, d.webhook) for d in first][:2] == [("evt_1", "bad"), ("evt_1", "desk")]
    by = {(d.event_id, d.webhook): d.id for d in first}
    # bad: evt_1 dead, evt_2 delivered (an operator's retry); desk: evt_1 waits for a retry in an hour.
    outbox.mark_failed(db, by["evt_1", "bad"], "a", error="HTTP 400", status=400, retry_at=None)
    outbox.mark_delivered(db, by["evt_2", "bad"], "a", now, 200)
    outbox.mark_failed(db, by["evt_1", "desk"], "a", error="503", status=503, retry_at=now + timedelta(hours=1))
    outbox.release(db, "a")
    again = [(d.event_id, d.webhook) for d in outbox.claim_due(db, now, "b", 120)]
    assert again == [("evt_3", "bad"), ("evt_4", "bad")]  # desk's later events wait for its evt_1
    db.close()


def test_only_a_certainly_dead_local_owner_counts_as_gone() -> None:
    host = socket.gethostname()[:40]
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid names no process now
    assert gone_from_this_host(f"{host}:{child.pid}")
    assert not gone_from_this_host(f"{host}:{os.getpid()}")  # ourselves
    assert not gone_from_this_host(f"{host}:{os.getppid()}")  # alive
    assert not gone_from_this_host(f"another-host:{child.pid}")  # can't know: its lease expires instead
    assert not gone_from_this_host("garbage")


def test_an_apprise_target_trickling_its_answer_fails_at_the_deadline(tmp_path: Path) -> None:
    pytest.importorskip("apprise", reason="the apprise extra is not installed")
    with HostileReceiver("trickle_head", every=0.2, give_up=4.0) as hostile:
        port = hostile.url.split(":")[2].split("/")[0]
        raw = {
            "monitor": {"database": "sqlite:///m.db"},
            "webhooks": [
                {
                    "name": "chat",
                    "url": f"json://127.0.0.1:{port}/hook",
                    "format": "apprise",
                    "timeout": "1s",
                    "deadline": "1.5s",
                }
            ],
            "watchlists": [{"name": "all", "regex": ["."], "webhooks": ["chat"]}],
        }
        config = parse_config(raw, base=tmp_path)
        p = pipeline_for(config, Clock(T0))
        p.ingestor.ingest(Article("seeds", "a.txt", "Fire in Dayton", f"{LEDES[0]}\n\nThis is a developing story."), T0)

        async def go() -> None:
            await p.deliver()
            await p.aclose()

        asyncio.run(go())
    (row,) = outbox.list_deliveries(p.db, ("pending",))
    assert row.attempts == 1 and row.last_error == "no answer within the 1.5s delivery deadline"
