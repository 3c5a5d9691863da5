"""The edge where items become ``core.model.Article``s: every text they carry is cleaned and bounded here.

Feed items (RSS, Atom, RDF, JSON Feed), full-text pages and seed files all pass through ``clean_article``,
so that no single item can fail the write of a whole feed or break a page that shows it:

* NUL and the other C0 control characters (tab, newline and CR excepted), DEL, lone surrogates and
  U+FFFE/U+FFFF are removed from every text field: PostgreSQL refuses NUL in text, a lone surrogate (legal
  in JSON) cannot be encoded as UTF-8, and none of them may appear in XML (``/updates.atom``);
* a title is cut at ``MAX_TITLE_CHARS``, a body at ``MAX_TEXT_CHARS`` and an identity or URL at
  ``MAX_REF_CHARS`` (a hostile feed once stored a 50,000,499-character article);
* a publication date outside ``MIN_YEAR``-``MAX_YEAR`` once in UTC, or one that has no UTC value at all
  (``9999-12-31T23:59:59-12:00`` is in the year 10000 in UTC), is treated as absent: the item is kept
  without a date instead of failing the INSERT.

What it does not do: judge the words (that is ``core``'s job) or refuse an item (the caller decides).
``clean_article`` says what it changed, so that the caller can log it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from monitor.core.model import Article

MAX_TITLE_CHARS = 1_000
MAX_TEXT_CHARS = 200_000  # ~30,000 words: longer than any article or live blog we have seen
MAX_REF_CHARS = 2_000  # GUIDs, URLs, outlet names
MIN_YEAR, MAX_YEAR = 1900, 2200  # a "date" outside this is a publisher's placeholder or an attack

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str, limit: int) -> str:
    """``value`` without the characters no database or XML document takes, at most ``limit`` characters."""
    return _UNSTORABLE.sub("", value)[:limit]


def _bounded(value: str, limit: int, what: str, changed: list[str]) -> str:
    storable = _UNSTORABLE.sub("", value)
    if len(storable) > limit:
        changed.append(f"{what} cut to {limit:,} characters")
    return storable[:limit]


def clean_date(value: datetime | None) -> datetime | None:
    """``value`` in UTC, or None when it has no sane UTC value."""
    if value is None:
        return None
    try:
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        return None
    return utc if MIN_YEAR <= utc.year <= MAX_YEAR else None


def clean_article(article: Article) -> tuple[Article, tuple[str, ...]]:
    """The article with every field storable, and what was changed (``date out of range``, ``... cut``)."""
    changed: list[str] = []
    title = _bounded(article.title, MAX_TITLE_CHARS, "title", changed)
    text = _bounded(article.text, MAX_TEXT_CHARS, "text", changed)
    published = clean_date(article.published)
    if article.published is not None and published is None:
        changed.append("date out of range, kept without a date")
    cleaned = replace(
        article,
        source=clean_text(article.source, MAX_REF_CHARS),
        guid=clean_text(article.guid, MAX_REF_CHARS),
        title=title.strip() or "(untitled)",
        text=text,
        url=clean_text(article.url, MAX_REF_CHARS) if article.url is not None else None,
        published=published,
        outlet=clean_text(article.outlet, MAX_REF_CHARS) if article.outlet is not None else None,
    )
    return cleaned, tuple(changed)
