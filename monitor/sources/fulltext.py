"""Full text of an article page, for feeds that carry only a summary.

``fetch_article_page`` GETs the page conditionally with the SSRF guard on every redirect hop (the URL comes
from inside a feed, so it may point anywhere); ``extract_main_text`` turns the HTML into the article's main
text with trafilatura (a dependency of news-monitor since page checks, docs/pages.md). Should it be missing
all the same, ``extract_main_text`` returns None and ``fulltext_available()`` says why, so callers degrade
to the summary.

Used by ``service.enrich`` (which decides when, and remembers page validators between polls).
"""

from __future__ import annotations

import importlib.util
import threading
from functools import partial

import httpx

from monitor.sources.fetch import Fetched, NotModified, fetch_url
from monitor.sources.safety import ensure_public_url

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
MAX_PAGE_BYTES = 5 * 1024 * 1024
FALLBACK_BELOW = 200  # characters: a main text this short is more likely a miss than an article
# One extraction at a time in this process: trafilatura on lxml is not safe in concurrent threads (the daemon
# crashed with "double free or corruption" during a test run; upstream reports the same: trafilatura issues
# 840 and 925). Feed full text and page checks both extract from executor threads.
_EXTRACTING = threading.Lock()


def fulltext_available() -> tuple[bool, str]:
    """Whether the extraction library is installed, and a sentence for logs and ``check``."""
    if importlib.util.find_spec("trafilatura") is None:
        return False, "full text off: trafilatura is not installed (reinstall news-monitor: it is a dependency)"
    return True, "full text on (trafilatura)"


async def fetch_article_page(
    client: httpx.AsyncClient,
    url: str,
    *,
    where: str,
    allow_private: bool = False,
    etag: str | None = None,
    last_modified: str | None = None,
    deadline: float = 30.0,
) -> Fetched | NotModified:
    """GET an article page found in a feed; refuses non-public addresses unless ``allow_private``."""
    guard = partial(ensure_public_url, where=where, allow_private=allow_private)
    return await fetch_url(
        client,
        url,
        where=where,
        accept=PAGE_ACCEPT,
        etag=etag,
        last_modified=last_modified,
        max_bytes=MAX_PAGE_BYTES,
        deadline=deadline,
        guard=guard,
    )


def extract_main_text(html: bytes, url: str) -> str | None:
    """The page's main text (no navigation, ads or comments), or None without trafilatura or text."""
    if importlib.util.find_spec("trafilatura") is None:
        return None
    import trafilatura

    with _EXTRACTING:
        text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_precision=True)
        text = text.strip() if isinstance(text, str) else ""
        if len(text) < FALLBACK_BELOW:
            # Precision mode finds nothing on some real pages (one of the benchmark's 92 here): recall mode then.
            # Benchmark F1 on ../shared/data/article_pages: 0.951 precision mode alone, 0.956 with this fallback.
            wider = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_recall=True)
            if isinstance(wider, str) and len(wider.strip()) > len(text):
                text = wider.strip()
    # trafilatura puts each paragraph, heading and list item on its own line; our texts separate
    # paragraphs by blank lines (core.text), else a heading would run into the next sentence as one.
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip()) or None
