"""Parsing bytes from the wild (issue 5): entity attacks, wrong or missing encodings, identity of items."""

from __future__ import annotations

import pytest

from monitor.errors import FeedParseError
from monitor.sources.feeds import canonical_url, parse_feed
from monitor.sources.safety import check_xml_entities


def rss(items: str, prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return f'{prolog}<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def parse(body: bytes, content_type: str | None = None) -> list[tuple[str, str | None]]:
    feed = parse_feed(body, feed_name="f", url="http://x.test/feed", content_type=content_type)
    return [(a.title, a.url) for a in feed.articles]


def doctype(subset: str) -> str:
    return f'<?xml version="1.0"?><!DOCTYPE rss [{subset}]>'


LAUGHS = doctype('<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' + "".join(
    f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("bcdefgh", "cdefghi", strict=True)
))  # fmt: skip


@pytest.mark.parametrize(
    ("prolog", "message"),
    [
        (LAUGHS, "entity 'b' refers to other entities"),
        (doctype('<!ENTITY x SYSTEM "file:///etc/passwd">'), "external entity 'x'"),
        (doctype('<!ENTITY x PUBLIC "-//x" "http://evil.test/x">'), "external entity"),
        (doctype('<!ENTITY % p SYSTEM "http://evil.test/p.dtd"> %p;'), "parameter entity"),
    ],
)  # fmt: skip
def test_entity_attacks_are_refused_with_a_precise_error(prolog: str, message: str) -> None:
    body = rss("<item><title>&i;</title><link>http://x.test/1</link></item>", prolog)
    with pytest.raises(FeedParseError, match=f"feed 'f': refused: {message}"):
        parse(body)


def test_quadratic_blowup_is_refused() -> None:
    prolog = f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"A" * 50_000}">]>'
    body = rss(f"<item><title>t</title><description>{'&a;' * 30_000}</description></item>", prolog)
    with pytest.raises(FeedParseError, match=r"would expand to 1,500,000,000 bytes"):
        parse(body)


def test_harmless_entity_declarations_still_parse() -> None:
    prolog = '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;"><!ENTITY site "Example">]>'
    body = rss("<item><title>A&nbsp;B &site;</title><link>http://x.test/1</link></item>", prolog)
    check_xml_entities(body, "f")
    assert parse(body) == [("A\xa0B Example", "http://x.test/1")]


def test_declared_utf8_but_latin1_bytes() -> None:
    body = rss("<item><title>Caf\xe9 fire</title><link>http://x.test/1</link></item>").replace(
        b"\xc3\xa9", b"\xe9"
    )
    assert parse(body) == [("Café fire", "http://x.test/1")]


def test_undeclared_windows_1252() -> None:
    body = rss("<item><title>\u201cQuoted\u201d</title><link>http://x.test/1</link></item>", "")
    body = body.decode().encode("cp1252")
    assert parse(body) == [("\u201cQuoted\u201d", "http://x.test/1")]


def test_http_charset_wins_over_a_missing_declaration() -> None:
    body = (
        rss("<item><title>Zürich</title><link>http://x.test/1</link></item>", "").decode().encode("latin-1")
    )
    assert parse(body, "application/rss+xml; charset=iso-8859-1") == [("Zürich", "http://x.test/1")]


def test_utf8_bom_and_leading_whitespace() -> None:
    body = b"\xef\xbb\xbf" + rss("<item><title>BOM</title><link>http://x.test/1</link></item>")
    assert parse(body) == [("BOM", "http://x.test/1")]
    assert (
        parse(b"\n\n  " + rss("<item><title>WS</title><link>http://x.test/2</link></item>", ""))[0][0] == "WS"
    )


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>Service unavailable</body></html>", b"\x00\x01\x02garbage", b'{"not": "a feed"}'],
)
def test_not_a_feed_is_a_precise_error(body: bytes) -> None:
    with pytest.raises(FeedParseError, match="feed 'f': "):
        parse(body)


def test_feedparser_is_only_ever_given_bytes_so_a_path_is_not_opened() -> None:
    # A body that is a local path or a URL must not make feedparser open or fetch it.
    with pytest.raises(FeedParseError, match="not an RSS/Atom/RDF/JSON feed"):
        parse(b"/etc/passwd")


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM/a?utm_source=x&id=3&fbclid=y#top", "http://example.com/a?id=3"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a?ref=rss&rss=1", "https://example.com/a"),
    ],
)
def test_canonical_url_strips_tracking(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_identity_guid_then_canonical_url_then_content() -> None:
    items = (
        '<item><guid isPermaLink="false">g-1</guid><title>A</title><link>http://x.test/a?utm_medium=rss</link></item>'
        "<item><title>B</title><link>http://x.test/b?utm_medium=rss</link></item>"
        "<item><title>C</title><description>only text</description></item>"
    )
    arts = parse_feed(rss(items), feed_name="f", url="http://x.test/feed").articles
    assert arts[0].guid == "g-1"
    assert arts[1].guid == "http://x.test/b"
    assert arts[2].guid.startswith("sha256:")
