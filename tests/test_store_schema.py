"""The Alembic-migrated schema is exactly ``monitor/store/schema.py`` (so the two cannot drift apart),
on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from monitor.store.db import MIGRATIONS, Database, schema_revision
from monitor.store.schema import SCHEMA_VERSION, metadata


def _diffs(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return list(compare_metadata(context, metadata))


def _check(url: str) -> None:
    db = Database(url)
    try:
        assert _diffs(db) == []
        current, head = schema_revision(db.engine)
        assert current == head is not None
        Database(url).close()  # migrating an up-to-date database again is a no-op
    finally:
        db.close()


def test_sqlite_migrations_match_metadata(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_migrations_match_metadata(pg_url: str) -> None:
    _check(pg_url)


def test_schema_version_names_the_newest_migration() -> None:
    # SCHEMA_VERSION once said "0002" while 0003 existed; the head of the migration chain is the truth.
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head == SCHEMA_VERSION
