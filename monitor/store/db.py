"""The database: engine set-up, migrations, and the ``Store`` with intent-named methods.

SQLAlchemy rows never leave this package: methods return ``store.records`` dataclasses or plain values.
SQLite runs in WAL mode with a busy timeout; every write transaction starts with ``BEGIN IMMEDIATE`` so two
processes never deadlock on a lock upgrade. On PostgreSQL the same methods use row locks
(``FOR UPDATE SKIP LOCKED``) and transaction-scoped advisory locks, so several instances can share one
database (see docs/scaling.md). PostgreSQL runs at READ COMMITTED, set explicitly: a statement issued after
an advisory lock is granted sees everything committed before it, which the ingest lock relies on (under
REPEATABLE READ the snapshot would predate the lock).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from monitor.core.redact import redact_text, redact_url
from monitor.errors import StoreError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# Arbitrary constants naming our advisory locks on PostgreSQL (transaction-scoped: a crashed instance's
# locks go with its connection, nothing to expire by hand).
LOCK_MIGRATE = 7_270_001
LOCK_INGEST = 7_270_002  # story decisions: one instance at a time (monitor/store/stories.py)
LOCK_FEED_SYNC = 7_270_003  # config -> feeds rows: instances starting together insert each feed once
LOCK_PRUNE = 7_270_004  # retention deletes: one instance at a time (overlapping deletes can deadlock)


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own transaction handling is off: we emit BEGIN ourselves (below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
        cur.execute("PRAGMA busy_timeout=10000")  # wait for another writer instead of failing
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock at BEGIN: no SQLITE_BUSY deadlock on a read->write upgrade.
        # Read-only connections (``Database.read``) begin a plain, deferred transaction.
        read_only = conn.get_execution_options().get("monitor_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; creates the folder of a SQLite file. Raises ``StoreError``."""
    try:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = (
                create_engine(url, poolclass=NullPool)
                if not path or path == ":memory:"
                else create_engine(url, pool_size=5, max_overflow=5, pool_timeout=30)
            )
            _sqlite_pragmas(engine)
            return engine
        return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True, isolation_level="READ COMMITTED")
    except (SQLAlchemyError, ImportError, ValueError, OSError) as e:
        raise StoreError(f"database {redact(url)}: cannot set up: {redact_text(str(e))}") from e


def redact(url: str) -> str:
    """The URL with its password hidden (userinfo and ``?password=``), for messages and logs."""
    return redact_url(url)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (one instance at a time on PostgreSQL)."""
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_MIGRATE})
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as e:
        raise StoreError(f"database {redact(str(engine.url))}: migration failed: {redact_text(str(e))}") from e


def schema_revision(engine: Engine) -> tuple[str | None, str | None]:
    """(current revision in the database, newest revision we ship)."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


class Database:
    """An engine plus the locks our transactions need; the store modules build on it."""

    def __init__(self, url: str, *, migrate_schema: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        # SQLite: one writer at a time inside this process (SQLite allows one anyway; avoids busy waits).
        # PostgreSQL locks rows, so a feed's poll record need not wait behind another feed's ingest.
        self._local_write: AbstractContextManager[object] = (
            threading.RLock() if self.dialect == "sqlite" else nullcontext()
        )
        if migrate_schema:
            migrate(self.engine)

    @contextmanager
    def write(self, *, ingest_lock: bool = False, lock: int | None = None) -> Iterator[Connection]:
        """A write transaction. ``ingest_lock`` serialises story decisions across instances; ``lock`` takes
        another advisory lock (``LOCK_*``) for the transaction. SQLite needs neither: BEGIN IMMEDIATE
        already makes every write transaction the only one."""
        key = LOCK_INGEST if ingest_lock else lock
        with self._local_write:
            try:
                with self.engine.begin() as conn:
                    if key is not None and self.dialect == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
                    yield conn
            except SQLAlchemyError as e:
                raise StoreError(f"database {redact(self.url)}: {type(e).__name__}: {redact_text(str(e))}") from e

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect().execution_options(monitor_read_only=True) as conn:
                yield conn
        except SQLAlchemyError as e:
            raise StoreError(f"database {redact(self.url)}: {type(e).__name__}: {redact_text(str(e))}") from e

    def ping(self) -> None:
        with self.read() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()
