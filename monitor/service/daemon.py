"""The long-running service: APScheduler as a clock, signals, config reload, sd_notify.

The scheduler holds only in-memory jobs with fixed ids; every piece of state lives in the database, so a
restart loses nothing. Why the jobs look the way they do (APScheduler 3.11, measured): a run
later than ``misfire_grace_time`` is dropped and an overlapping run is skipped with only a warning, so we
listen for both and count them (never silent); the poll job runs every few seconds and asks the database
which feeds are due, so no job ever needs to be "caught up"; blocking work (SQL, parsing) runs in threads
so the event loop keeps time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.config import Config, load_config
from monitor.errors import ConfigError, MonitorError
from monitor.service import http as http_listener
from monitor.service import sdnotify
from monitor.service.pipeline import Pipeline
from monitor.store.db import Database

log = logging.getLogger("monitor.daemon")
POLL_TICK = 2.0  # seconds between "which feeds are due?" questions to the database
CONFIG_CHECK = 5.0  # seconds between checks of the config file's modification time
SHUTDOWN_DEADLINE = 20.0
HOUSEKEEPING = 300.0  # seconds between lifecycle/retention passes


class Daemon:
    def __init__(self, config: Config, db: Database, *, config_path: Path | None = None) -> None:
        self.config = config
        self.db = db
        self.config_path = config_path
        self.pipeline = Pipeline(config, db)
        self.scheduler = AsyncIOScheduler(job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30})
        self.counters: Counter[str] = Counter()
        self._stop = asyncio.Event()
        self._inflight: set[asyncio.Task[Any]] = set()
        self._config_mtime = self._mtime()
        self.http: http_listener.Listener | None = None  # [monitor] http_listen

    def _mtime(self) -> float | None:
        try:
            return self.config_path.stat().st_mtime if self.config_path else None
        except OSError:
            return None

    # --- jobs ------------------------------------------------------------------------------------------

    def _tracked(self, name: str, fn: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            if self._stop.is_set():
                return  # shutting down: take no new work
            task = asyncio.current_task()
            assert task is not None
            self._inflight.add(task)
            try:
                await fn()
                self.counters[f"job.{name}.ok"] += 1
            except MonitorError as e:
                self.counters[f"job.{name}.error"] += 1
                log.error("job.failed job=%s error=%s", name, e)
            finally:
                self._inflight.discard(task)

        job.__name__ = job.__qualname__ = f"{name} job"  # how APScheduler names it in its own warnings
        return job

    async def _seeds(self) -> None:
        await asyncio.to_thread(self.pipeline.scan_seeds)

    async def _housekeeping(self) -> None:
        await asyncio.to_thread(self.pipeline.housekeeping)

    async def _watchdog(self) -> None:
        await asyncio.to_thread(self.db.ping)  # a hung database should trip the watchdog too
        sdnotify.watchdog()

    async def _check_config(self) -> None:
        mtime = self._mtime()
        if mtime is not None and mtime != self._config_mtime:
            self._config_mtime = mtime
            await self.reload("file changed")

    async def reload(self, why: str) -> bool:
        """Load the config again; a config that fails validation is refused and the running one stays."""
        if self.config_path is None:
            return False
        try:
            new = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as e:
            self.counters["config.reload.refused"] += 1
            for problem in e.problems:
                log.error("config.reload_refused why=%s problem=%s", why, problem)
            return False
        if new.monitor.database != self.config.monitor.database:
            log.warning("config.reload database change needs a restart; keeping %s", "the current database")
        self.config = new
        await asyncio.to_thread(self.pipeline.apply_config, new)
        self.counters["config.reload.ok"] += 1
        log.info(
            "config.reloaded why=%s feeds=%d watchlists=%d webhooks=%d",
            why,
            len(new.feeds),
            len(new.watchlists),
            len(new.webhooks),
        )
        return True

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        kind = {EVENT_JOB_MISSED: "missed", EVENT_JOB_MAX_INSTANCES: "skipped", EVENT_JOB_ERROR: "crashed"}
        what = kind.get(event.code, str(event.code))
        self.counters[f"job.{event.job_id}.{what}"] += 1
        if event.code == EVENT_JOB_ERROR:
            log.error("job.crashed job=%s", event.job_id, exc_info=event.exception)
        else:
            log.warning("job.%s job=%s (the next run picks up its work)", what, event.job_id)

    def _schedule(self) -> None:
        m = self.config.monitor
        add = self.scheduler.add_job
        now = datetime.now(UTC)  # the first pass runs right away, not one interval later
        add(
            self._tracked("poll", self.pipeline.poll_due),
            "interval",
            seconds=POLL_TICK,
            id="poll",
            next_run_time=now,
        )
        add(
            self._tracked("pages", self.pipeline.check_pages),  # does nothing while page_checks = false
            "interval",
            seconds=POLL_TICK,
            id="pages",
            next_run_time=now,
        )
        add(
            self._tracked("deliver", self.pipeline.deliver),
            "interval",
            seconds=m.deliver_interval,
            id="deliver",
            next_run_time=now,
        )
        if m.seeds_dir is not None:
            add(
                self._tracked("seeds", self._seeds),
                "interval",
                seconds=m.seeds_interval,
                id="seeds",
                next_run_time=now,
            )
        add(self._tracked("config", self._check_config), "interval", seconds=CONFIG_CHECK, id="config")
        add(
            self._tracked("housekeeping", self._housekeeping),
            "interval",
            seconds=HOUSEKEEPING,
            id="housekeeping",
        )
        interval = sdnotify.watchdog_interval()
        if interval:
            add(self._tracked("watchdog", self._watchdog), "interval", seconds=interval / 2, id="watchdog")
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)

    # --- life cycle ------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()
        self.pipeline.stop_claiming = True  # a poll job still running finishes what it holds, claims nothing new

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload("SIGHUP")))
        await asyncio.to_thread(self.db.ping)
        await asyncio.to_thread(self.pipeline.recover_leases)
        await asyncio.to_thread(self.pipeline.sync_feeds)
        self._schedule()
        self.scheduler.start()
        self.http = await http_listener.start(
            self.config.monitor.http_listen,
            self.db,
            counters=self.counters,
            ready=lambda: {"scheduler": self.scheduler.running},
        )
        sdnotify.ready()
        sdnotify.status(f"watching {len(self.config.feeds)} feeds")
        log.info(
            "daemon.started feeds=%d watchlists=%d webhooks=%d owner=%s",
            len(self.config.feeds),
            len(self.config.watchlists),
            len(self.config.webhooks),
            self.pipeline.owner,
        )
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        sdnotify.stopping()
        log.info("daemon.stopping inflight=%d", len(self._inflight))
        with contextlib.suppress(Exception):
            self.scheduler.shutdown(wait=False)
        await http_listener.stop(self.http)  # before the database closes under its pages
        if self._inflight:
            _, pending = await asyncio.wait(self._inflight, timeout=SHUTDOWN_DEADLINE)
            for task in pending:
                task.cancel()
        await self.pipeline.aclose()  # releases our leases: other instances need not wait for expiry
        await asyncio.to_thread(self.db.close)
        log.info("daemon.stopped")
