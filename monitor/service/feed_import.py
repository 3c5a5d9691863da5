"""``feeds import`` and ``feeds export``: an OPML file's feeds into the config file, the config's feeds out.

The config is edited as text, never re-serialised: the new ``[[feeds]]`` tables (rendered by tomlkit, so
every name and URL is quoted right) are appended after the file's last line, and every byte before them
stays as it was, comments and layout included. TOML allows the tables of one array to be apart, so they
may follow ``[[watchlists]]``. The new file is written beside the old one, validated with the same
``load_config`` the daemon uses, and moved over it with ``os.replace``: a reader (the running daemon, which
reloads when the file's mtime changes) sees the old file or the new one, never half of one, and an import
that fails leaves the config byte for byte as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from monitor.config import Config, load_config
from monitor.errors import ConfigError, OpmlError
from monitor.opml import ImportPlan, parse_opml, plan_import, write_opml


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    toml: str  # the [[feeds]] tables to add ("" when there is nothing to add)
    written: bool


def feeds_toml(plan: ImportPlan) -> str:
    """The ``[[feeds]]`` tables of ``plan``, each headed by the outline's title (and folders) as a comment."""
    tables = tomlkit.aot()
    for new in plan.add:
        table = tomlkit.table()
        comment = " ".join(new.outline.describe().split())  # one line, whatever the title held
        if comment:
            table.add(tomlkit.comment(comment))
        table.add("name", new.name)
        table.add("url", new.outline.url)
        tables.append(table)
    if not plan.add:
        return ""
    doc = tomlkit.document()
    doc.append("feeds", tables)
    return tomlkit.dumps(doc)


def import_feeds(config_path: Path, opml_path: Path, *, write: bool) -> ImportResult:
    """Plan the import of ``opml_path`` into the config at ``config_path``; with ``write``, do it."""
    config = load_config(config_path)  # an invalid config stops here, before anything is touched
    try:
        data = opml_path.read_bytes()
    except OSError as e:
        raise OpmlError(str(opml_path), [f"cannot read: {e.strerror or e}"]) from e
    plan = plan_import(parse_opml(data, str(opml_path)), [(f.name, f.url) for f in config.feeds])
    toml = feeds_toml(plan)
    if write and plan.add:
        header = f"# Imported from {opml_path.name} by `news-monitor feeds import`: {plan.summary()}.\n"
        _append(config_path, header + toml)
    return ImportResult(plan, toml, written=write and bool(plan.add))


def _append(config_path: Path, addition: str) -> None:
    target = Path(os.path.realpath(config_path))  # a symlinked config stays a symlink
    old = target.read_bytes()
    text = old.decode("utf-8")
    new = text + ("" if text.endswith("\n") or not text else "\n") + "\n" + addition
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(new)
            f.flush()
            os.fsync(f.fileno())
        shutil.copymode(target, tmp)
        try:
            load_config(tmp)  # the daemon must never see a config it would reject
        except ConfigError as e:
            raise ConfigError(f"{config_path} (with the imported feeds; not written)", e.problems) from e
        if target.read_bytes() != old:  # edited by someone else meanwhile: theirs wins, ours is not applied
            raise OpmlError(str(config_path), ["the config changed while importing; run the import again"])
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def export_feeds(config: Config) -> str:
    """Every configured feed (disabled ones too) as OPML 2.0."""
    return write_opml((f.name, f.url) for f in config.feeds)
