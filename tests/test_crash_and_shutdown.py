"""Crashes and shutdowns of a real daemon process: SIGKILL with deliveries in flight loses nothing;
SIGTERM finishes in-flight deliveries, releases the rest, and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from tests.servers import Receiver
from tests.support import SECRET, wait_for

pytestmark = pytest.mark.e2e

TOPICS = [
    (
        "Warehouse fire in Dayton",
        "A fire broke out at a warehouse on Keowee Street in Dayton, fire chief Jeffrey Payne said.",
    ),
    (
        "Flooding closes Route 9",
        "Heavy rain flooded Route 9 near Brattleboro, Vermont state police said on Monday.",
    ),
    (
        "Dockworkers strike in Antwerp",
        "Unions at the port of Antwerp began a strike over pensions, the ABVV union said.",
    ),
    (
        "Quake shakes Hokkaido",
        "A magnitude 6.1 earthquake struck off Hokkaido, the Japan Meteorological Agency said.",
    ),
    (
        "Bridge closed in Porto",
        "The Luiz I bridge in Porto was closed after inspectors found a crack, the mayor said.",
    ),
]


def setup(tmp_path: Path, receiver: Receiver) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i, (title, lede) in enumerate(TOPICS):
        (seeds / f"s{i}.txt").write_text(f"{title}\n\n{lede}\n\nThis is a developing story.\n", encoding="utf-8")
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'[monitor]\ndatabase = "sqlite:///m.db"\nseeds_dir = "seeds"\ndeliver_interval = "1s"\n'
        f'delivery_lease = "3s"\n\n[[webhooks]]\nname = "desk"\nurl = "{receiver.url}"\n'
        f'secret = "env:DESK_WEBHOOK_SECRET"\ntimeout = "30s"\n\n'
        f'[[watchlists]]\nname = "all"\nregex = ["."]\nwebhooks = ["desk"]\n',
        encoding="utf-8",
    )
    return config


def start(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DESK_WEBHOOK_SECRET": SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outbox(tmp_path: Path) -> list[tuple[str, str, str | None]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.connect() as conn:
        from monitor.store.schema import deliveries

        rows = conn.execute(select(deliveries.c.event_id, deliveries.c.status, deliveries.c.lease_owner)).all()
    engine.dispose()
    return [(r.event_id, r.status, r.lease_owner) for r in rows]


def test_sigkill_with_deliveries_in_flight_loses_nothing(tmp_path: Path, receiver: Receiver) -> None:
    receiver.delay = 1.5
    config = setup(tmp_path, receiver)
    proc = start(config)
    try:
        assert wait_for(lambda: receiver.started() >= 1, 30), "no delivery started"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    rows = outbox(tmp_path)
    assert len(rows) == len(TOPICS)
    assert any(status == "pending" for _, status, _ in rows), "the kill came too late to test anything"
    receiver.delay = 0.0
    proc = start(config)
    try:
        assert wait_for(lambda: all(s == "delivered" for _, s, _ in outbox(tmp_path)), 40), outbox(tmp_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    ids = {event_id for event_id, _, _ in outbox(tmp_path)}
    accepted = receiver.accepted()  # de-duplicated by webhook-id, as a receiver would
    assert {e["id"] for e in accepted} == ids
    assert len(accepted) == len(TOPICS)


def test_sigterm_mid_delivery_finishes_in_flight_and_releases_the_rest(tmp_path: Path, receiver: Receiver) -> None:
    receiver.delay = 2.0
    config = setup(tmp_path, receiver)
    proc = start(config)
    try:
        assert wait_for(lambda: receiver.started() >= 1, 30)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "daemon.stopped" in err
    rows = outbox(tmp_path)
    answered = {r["headers"]["webhook-id"] for r in receiver.all_posts() if r["status"] == 200}
    for event_id, status, lease in rows:
        assert lease is None, "a lease was left behind"
        # Every POST the receiver answered was recorded as delivered before the daemon exited.
        assert (status == "delivered") == (event_id in answered)
    assert len(rows) == len(TOPICS)
