"""What "the same URL" means, defined once for ingest and the matcher.

``canonical_url`` is the URL stored and sent (still one a reader can open); ``normalise_url`` is the key the
matcher compares, looser still (no scheme, no ``www.``, no trailing slash, parameters sorted). Both drop the
same tracking parameters, so ``normalise_url(canonical_url(u)) == normalise_url(u)``: ingest's "same URL"
and the matcher's cannot disagree over a parameter one of them thinks is tracking and the other does not.
Pure (stdlib only); fetching and redirects are ``sources/``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that say how a reader arrived, not which page it is (compared lower-cased, whole name).
_TRACKING = re.compile(
    r"(?:utm|ref_).*"
    r"|feature|fbclid|gclid|dclid|mc_cid|mc_eid|ocid|cmp|cmpid|ncid|icid|_ga|igshid|ref|rss|feed|source|share|s_cid"
)


def is_tracking(name: str) -> bool:
    """Whether a query parameter only says how the reader arrived (``utm_source``, ``fbclid``, ``ref``...)."""
    return _TRACKING.fullmatch(name.lower()) is not None


def _kept(query: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not is_tracking(k)]


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, no trailing '?'."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    query = urlencode(_kept(parts.query))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def normalise_url(url: str | None) -> str | None:
    """Scheme-, ``www.``-, fragment- and tracking-free URL, so one page fetched two ways is one URL.

    The query stays (sorted) apart from tracking parameters: many sites name the article in it
    (``story.php?sid=123``, ``watch?v=...``), and dropping it made every such page one "URL".
    """
    if not url:
        return None
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    if not host:
        return None
    query = sorted(_kept(parts.query))
    return f"{host}{parts.path.rstrip('/')}" + (f"?{urlencode(query)}" if query else "")
