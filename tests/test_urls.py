"""One definition of "the same URL" (monitor/core/urls.py), used by ingest (``canonical_url``) and the
matcher (``normalise_url``)."""

from __future__ import annotations

import pytest

from monitor.core.urls import canonical_url, is_tracking, normalise_url

# Each URL once split ingest and the matcher: feeds' list kept ``source``/``feature``/``share``/``ref_src``
# (and any upper-case name), the matcher's kept ``_ga``/``dclid``/``igshid``/``icid``/``ncid``. So two links
# to one article were two URLs to ingest and one to the matcher, or the other way round.
DISAGREED = [
    ("https://example.com/a?id=1&source=rss", "https://example.com/a?id=1"),
    ("https://example.com/a?id=1&feature=share", "https://example.com/a?id=1"),
    ("https://example.com/a?id=1&ref_src=twsrc", "https://example.com/a?id=1"),
    ("https://example.com/a?id=1&UTM_Source=x", "https://example.com/a?id=1"),
    ("https://example.com/a?id=1&_ga=2.1", "https://example.com/a?id=1"),
    ("https://example.com/a?id=1&igshid=abc", "https://example.com/a?id=1"),
    ("https://example.com/a?id=1&dclid=9", "https://example.com/a?id=1"),
]


@pytest.mark.parametrize(("tracked", "plain"), DISAGREED)
def test_ingest_and_matcher_give_one_answer(tracked: str, plain: str) -> None:
    assert canonical_url(tracked) == canonical_url(plain)
    assert normalise_url(tracked) == normalise_url(plain) == "example.com/a?id=1"


@pytest.mark.parametrize("url", [u for pair in DISAGREED for u in pair] + ["HTTP://www.Example.COM/a/?b=2&a=1#x"])
def test_the_matcher_key_of_the_stored_url_is_the_key_of_the_link(url: str) -> None:
    assert normalise_url(canonical_url(url)) == normalise_url(url)


def test_a_parameter_that_names_the_article_is_not_tracking() -> None:
    assert not any(is_tracking(k) for k in ("id", "sid", "v", "p", "story", "sources", "refresh"))
    assert all(is_tracking(k) for k in ("utm_medium", "utm", "fbclid", "Ref", "ref_url", "rss", "s_cid"))
