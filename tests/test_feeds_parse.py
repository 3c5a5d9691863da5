"""Parsing bytes from the wild: entity attacks, wrong or missing encodings, identity of items."""

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


LAUGHS = doctype(
    '<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("bcdefgh", "cdefghi", strict=True))
)


@pytest.mark.parametrize(
    ("prolog", "message"),
    [
        (LAUGHS, "entity 'b' refers to other entities"),
        (doctype('<!ENTITY x SYSTEM "file:///etc/passwd">'), "external entity 'x' names a non-http"),
        (doctype('<!ENTITY x PUBLIC "-//x" "php://filter/resource=x">'), "external entity 'x'"),
        (doctype('<!ENTITY % p SYSTEM "file:///etc/p.dtd"> %p;'), "parameter entity %p names a non-http"),
        (doctype("<!ENTITY % p \"<!ENTITY x 'y'>\"> %p;"), "parameter entity %p"),
    ],
)
def test_entity_attacks_are_refused_with_a_precise_error(prolog: str, message: str) -> None:
    body = rss("<item><title>&i;</title><link>http://x.test/1</link></item>", prolog)
    with pytest.raises(FeedParseError, match=f"feed 'f': refused: {message}"):
        parse(body)


def test_quadratic_blowup_is_refused() -> None:
    prolog = f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"A" * 50_000}">]>'
    body = rss(f"<item><title>t</title><description>{'&a;' * 30_000}</description></item>", prolog)
    with pytest.raises(FeedParseError, match=r"would expand to 1,500,000,000 bytes"):
        parse(body)


def test_http_external_entities_are_never_fetched_and_the_feed_still_reads() -> None:
    # rdf/doctype_contains_entity_decl.xml in feedparser's suite: old feeds pull in W3C entity sets.
    prolog = doctype(
        '<!ENTITY % HTMLlat1 PUBLIC "-//W3C//ENTITIES Latin 1//EN" "http://127.0.0.1:9/lat1.ent"> %HTMLlat1;'
    )
    body = rss("<item><title>Still here</title><link>http://x.test/1</link></item>", prolog)
    assert parse(body) == [("Still here", "http://x.test/1")]


def test_external_file_entity_is_never_read_even_past_the_guard() -> None:
    import feedparser

    body = rss("<item><title>&x;</title></item>", doctype('<!ENTITY x SYSTEM "file:///etc/hostname">'))
    result = feedparser.parse(body)  # what would happen without our guard: not expanded either
    assert "&x;" in result.entries[0].title or result.entries[0].title == ""


def test_harmless_entity_declarations_still_parse() -> None:
    prolog = '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;"><!ENTITY site "Example">]>'
    body = rss("<item><title>A&nbsp;B &site;</title><link>http://x.test/1</link></item>", prolog)
    check_xml_entities(body, "f")
    assert parse(body) == [("A\xa0B Example", "http://x.test/1")]


def test_declared_utf8_but_latin1_bytes() -> None:
    body = rss("<item><title>Caf\xe9 fire</title><link>http://x.test/1</link></item>").replace(b"\xc3\xa9", b"\xe9")
    assert parse(body) == [("Café fire", "http://x.test/1")]


def test_undeclared_windows_1252() -> None:
    body = rss("<item><title>\u201cQuoted\u201d</title><link>http://x.test/1</link></item>", "")
    body = body.decode().encode("cp1252")
    assert parse(body) == [("\u201cQuoted\u201d", "http://x.test/1")]


def test_http_charset_wins_over_a_missing_declaration() -> None:
    body = rss("<item><title>Zürich</title><link>http://x.test/1</link></item>", "").decode().encode("latin-1")
    assert parse(body, "application/rss+xml; charset=iso-8859-1") == [("Zürich", "http://x.test/1")]


def test_utf8_bom_and_leading_whitespace() -> None:
    body = b"\xef\xbb\xbf" + rss("<item><title>BOM</title><link>http://x.test/1</link></item>")
    assert parse(body) == [("BOM", "http://x.test/1")]
    assert parse(b"\n\n  " + rss("<item><title>WS</title><link>http://x.test/2</link></item>", ""))[0][0] == "WS"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>Service unavailable</body></html>",
        b"\x00\x01\x02garbage",
        b'{"not": "a feed"}',
        b"[1, 2]",
        b"{broken json",
    ],
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


def test_atom_text_title_is_literal_and_html_title_is_text() -> None:
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id>'
        b'<title type="text">History of the &lt;blink&gt; tag</title><link href="http://x.test/1"/>'
        b'</entry><entry><id>2</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; move</title>'
        b"</entry></feed>"
    )
    assert [t for t, _ in parse(atom)] == ["History of the <blink> tag", "Bold move"]


def test_control_characters_and_non_http_links() -> None:
    items = "<item><title>ab\x08cd</title><link>at://did:plc:x/post/1</link><description>x</description></item>"
    assert parse(rss(items).replace(b"\\x08", b"\x08")) == [("abcd", None)]


def test_json_feed_with_a_loose_version_still_reads() -> None:
    body = b'{"version": "1.0", "title": "J", "items": [{"id": "1", "title": "One", "url": "http://x.test/1"}]}'
    assert parse(body) == [("One", "http://x.test/1")]
