"""The seed folder: plain-text articles dropped in by hand (``.txt`` / ``.md``), one article per file.

Format: the first non-empty line is the headline (a leading Markdown ``#`` is dropped), the rest is the
body, paragraphs separated by blank lines, UTF-8. A file's identity is its path relative to the folder, so
editing a file makes a new version of the same article; deleting one is not an error (what was stored
stays stored). A file that cannot be read is reported by name and skipped; the others still load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.core.model import Article
from monitor.errors import SeedFileError
from monitor.sources.clean import clean_article

SEED_SOURCE = "seeds"
SUFFIXES = (".txt", ".md")
MAX_SEED_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class SeedScan:
    articles: tuple[Article, ...]
    errors: tuple[SeedFileError, ...]


def read_seed(path: Path, root: Path) -> Article:
    """One seed file -> an Article. Raises ``SeedFileError`` naming the file."""
    rel = path.relative_to(root).as_posix()
    where = f"seed file {path}"
    try:
        size = path.stat().st_size
        if size > MAX_SEED_BYTES:
            raise SeedFileError(where, f"{size:,} bytes, over the {MAX_SEED_BYTES:,}-byte limit for one article")
        data = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as e:
        raise SeedFileError(where, f"cannot read: {e.strerror or e}") from e
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
    # Cleaned like a feed item: no NUL or other control character reaches the database (issue 14).
    return clean_article(Article(SEED_SOURCE, rel, title, body, url=None, published=mtime, outlet="seed folder"))[0]


def scan_seeds(root: Path) -> SeedScan:
    """Every readable seed article under ``root`` (sorted by path), and an error per unreadable file."""
    if not root.is_dir():
        return SeedScan((), (SeedFileError(f"seed folder {root}", "does not exist or is not a folder"),))
    articles: list[Article] = []
    errors: list[SeedFileError] = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue  # editors' swap and backup files
        try:
            articles.append(read_seed(path, root))
        except SeedFileError as e:
            errors.append(e)
    return SeedScan(tuple(articles), tuple(errors))
