"""A real PostgreSQL server for the tests (and ``bench/``): initdb in a temp dir, started on 127.0.0.1.

Debian's ``postgresql`` package puts ``initdb``/``pg_ctl`` in ``/usr/lib/postgresql/<version>/bin`` (not on
PATH); we look there and on PATH. PostgreSQL refuses to run as root, and CI runs as root, so there the
server runs as an unprivileged user (``postgres``, which the Debian package creates, else one we add with
``useradd``) via ``runuser``, in a temp dir under ``/tmp`` that this user owns (pytest's own temp dirs are
mode 0700 under root and not reachable by it). Where none of this works the fixtures skip and say why.

The fixtures ``pg_server`` (one server per session, started by the first test that asks) and ``pg_url`` (a
fresh database per test) are in tests/conftest.py.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG_USER = "postgres"  # both the OS user (when we are root) and the database superuser
# Test servers trade durability for speed (a crashed test database is thrown away anyway).
FAST = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


class PostgresUnavailable(Exception):
    """PostgreSQL cannot be started here; the message says why (shown as the skip reason)."""


def find_bin(name: str) -> str | None:
    """``name`` from the newest /usr/lib/postgresql/*/bin (Debian's layout), else from PATH."""

    def version(folder: str) -> int:
        number = Path(folder).parent.name
        return int(number) if number.isdigit() else 0

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if os.access(os.path.join(folder, name), os.X_OK):
            return os.path.join(folder, name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _os_user() -> str | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise PostgresUnavailable("running as root and there is no 'postgres' user nor useradd") from None
        done = subprocess.run([useradd, "--system", "--no-create-home", PG_USER], capture_output=True, text=True)
        if done.returncode != 0:
            raise PostgresUnavailable(f"useradd {PG_USER} failed: {done.stderr.strip()}") from None
    return PG_USER


@dataclass
class PostgresServer:
    root: Path
    port: int
    user: str | None  # OS user the server runs as (None: ourselves)
    pg_ctl: str
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *cmd: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=timeout, cwd=self.root)

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement with autocommit (CREATE/DROP DATABASE cannot run inside a transaction)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=PG_USER, dbname=database, autocommit=True) as c:
            c.execute(statement)  # type: ignore[arg-type]

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self._run(self.pg_ctl, "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(*, fast: bool = True, settings: tuple[str, ...] = ()) -> PostgresServer:
    """initdb + pg_ctl start on 127.0.0.1:<free port>; raises ``PostgresUnavailable`` with the reason."""
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise PostgresUnavailable("initdb/pg_ctl not found (apt-get install postgresql)")
    user = _os_user()
    if user and not shutil.which("runuser"):
        raise PostgresUnavailable("running as root and runuser is missing")
    # Short path under /tmp: the unix socket lives here too and its path is limited to ~107 bytes.
    root = Path(tempfile.mkdtemp(prefix="nm-pg-", dir="/tmp"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(root, _free_port(), user, pg_ctl)
    try:
        done = server._run(
            initdb,
            "-D",
            str(server.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C",
        )
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
        options = [
            "-c",
            "listen_addresses=127.0.0.1",
            "-p",
            str(server.port),
            "-k",
            str(root),
            "-c",
            "max_connections=300",
            *(FAST if fast else ()),
            *settings,
        ]
        log = root / "server.log"
        done = server._run(
            pg_ctl, "start", "-D", str(server.data), "-w", "-t", "60", "-l", str(log), "-o", " ".join(options)
        )
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-800:] if log.exists() else done.stderr
            raise PostgresUnavailable(f"pg_ctl start failed: {tail.strip()}")
        _wait_ready(server)
    except (OSError, subprocess.TimeoutExpired) as e:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"cannot start PostgreSQL: {e}") from e
    except PostgresUnavailable:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def _has_c_utf8() -> bool:
    done = subprocess.run(["locale", "-a"], capture_output=True, text=True) if shutil.which("locale") else None
    return bool(done and any(x.lower() in ("c.utf8", "c.utf-8") for x in done.stdout.split()))


def _wait_ready(server: PostgresServer, timeout: float = 30) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            server.sql("SELECT 1")
            return
        except psycopg.OperationalError as e:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"server did not accept connections: {e}") from e
            time.sleep(0.1)
