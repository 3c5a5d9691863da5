"""The seed folder: plain-text articles dropped in by hand (``.txt`` / ``.md``), one article per file.

Format: the first non-empty line is the headline (a leading Markdown ``#`` is dropped), the rest is the
body, paragraphs separated by blank lines, UTF-8. A file's identity is its path relative to the folder, so
editing a file makes a new version of the same article; deleting one is not an error (what was stored
stays stored). A file that cannot be read is reported by name and skipped; the others still load.

Whoever can drop a file in the folder must not reach beyond it: a link is read only if it ends
inside the folder (``ln -s /proc/self/environ x.txt`` once stored the daemon's environment as an article),
only regular files are read (a FIFO would block the scan, a device could be anything), links to folders are
not followed, folders deeper than ``MAX_DEPTH`` are not walked (1,100 nested folders raised
``RecursionError``), and a file name that is not UTF-8 or holds control characters is reported escaped and
skipped rather than sinking the scan or forging a log line. What it does not do: defend against a race that
swaps a folder on the path for a link between the check and the open (the last component is opened with
``O_NOFOLLOW``; the folders above it are the operator's).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.core.model import Article
from monitor.errors import SeedFileError
from monitor.sources.clean import clean_article

SEED_SOURCE = "seeds"
SUFFIXES = (".txt", ".md")
MAX_SEED_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32  # folders below the seed folder that are walked
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class SeedScan:
    articles: tuple[Article, ...]
    errors: tuple[SeedFileError, ...]


def shown(path: Path | str) -> str:
    """A file name as messages and logs may show it: as is when printable, else escaped (``repr``)."""
    text = str(path)
    return text if text.isprintable() and _utf8(text) else repr(text)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes of a file name arrive as lone surrogates
        return False
    return True


def _inside(real: Path, root_real: Path) -> bool:
    return real == root_real or real.is_relative_to(root_real)


def _read_regular(path: Path, root: Path, where: str) -> tuple[bytes, float]:
    """The bytes and mtime of ``path``, if it is (or links, inside the folder, to) a regular file."""
    try:
        real = path.resolve(strict=True)
        if not _inside(real, root.resolve()):
            raise SeedFileError(where, "is a link that leads out of the seed folder: not followed")
        if not stat.S_ISREG(os.stat(real, follow_symlinks=False).st_mode):
            raise SeedFileError(where, "is not a regular file (a FIFO, device, socket or folder): not read")
        fd = os.open(real, _OPEN_FLAGS)
    except (OSError, RuntimeError) as e:  # RuntimeError: a loop of links (Python 3.11)
        raise SeedFileError(where, f"cannot read: {getattr(e, 'strerror', None) or e}") from e
    with open(fd, "rb") as f:
        st = os.fstat(f.fileno())  # what was opened, not what was checked
        if not stat.S_ISREG(st.st_mode):
            raise SeedFileError(where, "is not a regular file: not read")
        if st.st_size > MAX_SEED_BYTES:
            raise SeedFileError(where, f"{st.st_size:,} bytes, over the {MAX_SEED_BYTES:,}-byte limit for one article")
        try:
            data = f.read(MAX_SEED_BYTES + 1)
        except OSError as e:
            raise SeedFileError(where, f"cannot read: {e.strerror or e}") from e
    if len(data) > MAX_SEED_BYTES:
        raise SeedFileError(where, f"over the {MAX_SEED_BYTES:,}-byte limit for one article")
    return data, st.st_mtime


def _when(mtime: float) -> datetime | None:
    """The file's mtime as its publication time; None when out of any datetime's range (``touch -d``
    can set one), which would otherwise raise outside the per-file error handling."""
    try:
        return datetime.fromtimestamp(mtime, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def read_seed(path: Path, root: Path) -> Article:
    """One seed file -> an Article. Raises ``SeedFileError`` naming the file."""
    rel = path.relative_to(root).as_posix()
    where = f"seed file {shown(path)}"
    if not _utf8(rel):
        # SQLite and PostgreSQL store text as UTF-8: such a name once crashed every scan.
        raise SeedFileError(where, "the file name is not UTF-8: rename it (e.g. convmv -f latin1 -t utf8)")
    if not rel.isprintable():
        # The name is the article's identity, shown by the CLI and in logs: a newline in it forged lines.
        raise SeedFileError(where, "the file name holds control characters (a newline?): rename it")
    data, mtime_s = _read_regular(path, root, where)
    mtime = _when(mtime_s)
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SeedFileError(
            where,
            f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        ) from e
    lines = content.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise SeedFileError(where, "empty file: the first line must be the headline")
    title = lines[0].strip().lstrip("#").strip()
    body = "\n".join(lines[1:]).strip()
    if not body:
        body = title  # a one-line flash is still an article
    # Cleaned like a feed item: no NUL or other control character reaches the database.
    return clean_article(Article(SEED_SOURCE, rel, title, body, url=None, published=mtime, outlet="seed folder"))[0]


def _seed_paths(root: Path, errors: list[SeedFileError]) -> list[Path]:
    """Seed files under ``root``, walked without recursion; dot files and folders are skipped (editors'
    swap and backup files), links to folders are not followed."""
    found: list[Path] = []
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as e:
            errors.append(SeedFileError(f"seed folder {shown(folder)}", f"cannot list: {e.strerror or e}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError as e:
                errors.append(SeedFileError(f"seed file {shown(path)}", f"cannot read: {e.strerror or e}"))
                continue
            if is_dir:
                if depth < MAX_DEPTH:
                    stack.append((path, depth + 1))
                else:
                    errors.append(
                        SeedFileError(f"seed folder {shown(path)}", f"deeper than {MAX_DEPTH} folders: not read")
                    )
            elif path.suffix.lower() in SUFFIXES:
                found.append(path)
    return sorted(found)


def scan_seeds(root: Path) -> SeedScan:
    """Every readable seed article under ``root`` (sorted by path), and an error per unreadable file."""
    if not root.is_dir():
        return SeedScan((), (SeedFileError(f"seed folder {shown(root)}", "does not exist or is not a folder"),))
    articles: list[Article] = []
    errors: list[SeedFileError] = []
    for path in _seed_paths(root, errors):
        try:
            articles.append(read_seed(path, root))
        except SeedFileError as e:
            errors.append(e)
    return SeedScan(tuple(articles), tuple(errors))
