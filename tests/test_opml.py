"""OPML in and out (monitor/opml.py, monitor/service/feed_import.py, ``news-monitor feeds import|export``).

The sample files in tests/data/opml/ are written in the shapes the readers' exports take: miniflux (OPML 2.0,
categories as outlines with ``text`` only, feeds with ``title``/``text``/``htmlUrl``), NewsBlur (OPML 1.1,
nested folders, ``type``/``version`` attributes), FreshRSS (OPML 2.0 with its ``frss:`` namespace), Feedly
(OPML 1.0, one feed in two categories), rss2email (``r2e opmlexport``: flat, ``text`` is the feed's name), and
a minimal one (``text`` and ``xmlUrl`` only, one ``xmlurl`` in lower case, as older tools write).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from xml.etree import ElementTree

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError, OpmlError
from monitor.opml import Outline, feed_name, parse_opml, plan_import, write_opml
from monitor.service.feed_import import import_feeds
from tests.servers import FeedServer, rss
from tests.support import run_cli, wait_for

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "opml"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # monitor/config's rule for a feed name

# file -> every feed it lists: (title, url, folders)
EXPECTED = {
    "miniflux.opml": [
        ("BBC News - World", "https://feeds.bbci.co.uk/news/world/rss.xml", ("All",)),
        (
            "Al Jazeera – Breaking News, World News and Video from Al Jazeera",
            "https://www.aljazeera.com/xml/rss/all.xml",
            ("All",),
        ),
        ("UN News", "https://news.un.org/feed/subscribe/en/news/all/rss.xml", ("Wires & agencies",)),
    ],
    "newsblur.opml": [
        ("World news | The Guardian", "https://www.theguardian.com/world/rss", ()),
        ("France 24 - Middle East", "https://www.france24.com/en/middle-east/rss", ("Middle East", "Syria")),
        ("Middle East Eye", "https://www.middleeasteye.net/rss", ("Middle East",)),
    ],
    "freshrss.opml": [
        ("NPR Topics: World", "https://feeds.npr.org/1004/rss.xml", ("Uncategorized",)),
        (
            "Le Monde.fr - Actualités et Infos en France et dans le monde",
            "https://www.lemonde.fr/rss/une.xml",
            ("Europe",),
        ),
        ("DW - Deutsche Welle", "https://rss.dw.com/rdf/rss-en-all", ("Europe",)),
    ],
    "feedly.opml": [
        ("CNN.com - RSS Channel - World", "http://rss.cnn.com/rss/edition_world.rss", ("World",)),
        ("NYT > World News", "https://rss.nytimes.com/services/xml/rss/nyt/World.xml", ("World",)),
        ("NYT > World News", "https://rss.nytimes.com/services/xml/rss/nyt/World.xml", ("Must read",)),
    ],
    "rss2email.opml": [
        ("reuters-world", "https://www.reutersagency.com/feed/?best-topics=world&post_type=best", ()),
        ("ap-top", "https://rsshub.app/apnews/topics/apf-topnews", ()),
    ],
    "reader.opml": [
        ("ReliefWeb - Updates", "https://reliefweb.int/updates/rss.xml", ()),
        ("xkcd.com", "https://xkcd.com/atom.xml", ()),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reads_each_readers_export(name: str) -> None:
    outlines = parse_opml((DATA / name).read_bytes(), name)
    assert [(o.title, o.url, o.folders) for o in outlines] == EXPECTED[name]


def test_every_sample_file_is_covered() -> None:
    assert {p.name for p in DATA.glob("*.opml")} == {*EXPECTED, "newsroom-40.opml"}


# --- bad files: an error naming the line or outline ---------------------------------------------------------

OPML = '<?xml version="1.0"?>\n<opml version="2.0">\n<head><title>t</title></head>\n<body>\n{}\n</body>\n</opml>\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<outline text="Wire">\n<outline text="No URL"/>\n</outline>', "line 6: outline 'No URL' has no xmlUrl"),
        (
            '<outline text="FTP" xmlUrl="ftp://example.org/feed.xml"/>',
            "line 5: outline 'FTP': xmlUrl must be an http(s)",
        ),
        ('<outline text="Feed" xmlUrl="feed://example.org/rss"/>', "xmlUrl must be an http(s) URL, got: 'feed://"),
        ('<outline text="JS" xmlUrl="javascript:alert(1)"/>', "line 5: outline 'JS'"),
        ('<outline xmlUrl="https:///no-host"/>', "line 5: an outline: xmlUrl must be an http(s) URL"),
        (
            '<outline text="Open" xmlUrl="https://example.org/a">\n</body>',
            "line 6: not well-formed XML: mismatched tag",
        ),
    ],
)
def test_a_bad_outline_is_named_with_its_line(body: str, message: str) -> None:
    with pytest.raises(OpmlError) as e:
        parse_opml(OPML.format(body).encode(), "subs.opml")
    assert message in str(e.value)


def test_every_problem_is_reported_at_once() -> None:
    body = '<outline text="A"/>\n<outline text="B" xmlUrl="gopher://x"/>\n<outline text="C" xmlUrl="https://ok.test/"/>'
    with pytest.raises(OpmlError) as e:
        parse_opml(OPML.format(body).encode(), "subs.opml")
    assert e.value.problems == [
        "line 5: outline 'A' has no xmlUrl (a feed needs one; an empty folder can go)",
        "line 6: outline 'B': xmlUrl must be an http(s) URL, got: 'gopher://x'",
    ]


def test_not_opml_and_no_body_are_errors() -> None:
    with pytest.raises(OpmlError, match=r"line 2: not an OPML file \(the root element is <rss>\)"):
        parse_opml(b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>', "x.opml")
    with pytest.raises(OpmlError, match="no <body>"):
        parse_opml(b'<opml version="2.0"><head/></opml>', "x.opml")


def test_entities_and_external_references_are_refused() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        '<opml version="2.0"><body><outline text="&b;" xmlUrl="https://x.test/"/></body></opml>'
    )
    with pytest.raises(OpmlError, match="refused"):
        parse_opml(bomb.encode(), "bomb.opml")
    external = (
        '<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<opml version="2.0"><body><outline text="&x;" xmlUrl="https://x.test/"/></body></opml>'
    )
    with pytest.raises(OpmlError, match="refused"):
        parse_opml(external.encode(), "external.opml")


# --- names and duplicates -----------------------------------------------------------------------------------


def test_names_are_valid_unique_and_readable() -> None:
    taken = {"world"}
    names = [
        feed_name(title, "https://www.example.org/rss", taken)
        for title in (
            "World",
            "World",
            "France 24 - World",
            "Le Monde.fr - Actualités",
            "新华网",
            "",
            "x" * 90,
            "x" * 90,
        )
    ]
    assert names[:6] == [
        "world-2",
        "world-3",
        "france-24-world",
        "le-monde.fr-actualites",
        "www.example.org",
        "www.example.org-2",
    ]
    assert len(names[6]) == len(names[7]) == 64 and names[7].endswith("-2") and names[6] != names[7]
    assert all(NAME.match(n) for n in names)


def test_duplicates_of_configured_urls_and_within_the_file_are_skipped_and_counted() -> None:
    outlines = parse_opml((DATA / "feedly.opml").read_bytes(), "feedly.opml")
    plan = plan_import(outlines, [("cnn", "HTTP://RSS.CNN.COM/rss/edition_world.rss")])  # scheme/host: any case
    assert [n.name for n in plan.add] == ["nyt-world-news"]
    assert [(o.url, name) for o, name in plan.configured] == [("http://rss.cnn.com/rss/edition_world.rss", "cnn")]
    assert [o.folders for o in plan.repeated] == [("Must read",)]
    assert plan.summary() == "1 feed(s) to add; skipped 1 already configured, 1 listed twice in the file"


def test_export_is_opml_2_that_imports_back_as_all_configured() -> None:
    feeds = [("wire", "https://wire.test/rss?a=1&b=2"), ("desk", "http://desk.test/feed")]
    text = write_opml(feeds)
    root = ElementTree.fromstring(text)
    assert root.tag == "opml" and root.get("version") == "2.0"
    outlines = root.findall("./body/outline")
    assert [(o.get("text"), o.get("xmlUrl"), o.get("type")) for o in outlines] == [
        ("wire", "https://wire.test/rss?a=1&b=2", "rss"),
        ("desk", "http://desk.test/feed", "rss"),
    ]
    back = parse_opml(text.encode(), "export.opml")
    assert back == [Outline("wire", feeds[0][1], (), 7), Outline("desk", feeds[1][1], (), 8)]
    assert not plan_import(back, feeds).add


# --- the config file: printed, written atomically, or left alone --------------------------------------------


@pytest.fixture
def default_copy(tmp_path: Path) -> Path:
    """A copy of the default config (config/monitor.toml), beside the folders it points at."""
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config" / "monitor.toml", tmp_path / "config" / "monitor.toml")
    (tmp_path / "seeds").mkdir()
    return tmp_path / "config" / "monitor.toml"


def test_acceptance_40_feeds_into_the_default_config(default_copy: Path) -> None:
    before = default_copy.read_bytes()
    configured = [(f.name, f.url) for f in load_config(default_copy).feeds]
    assert len(configured) == 3  # the default config's feeds; one of them is in the OPML file too
    opml = DATA / "newsroom-40.opml"
    listed = [o.url for o in parse_opml(opml.read_bytes(), "x")]
    assert len(listed) == 40 and len(set(listed) & {url for _, url in configured}) == 1

    dry = run_cli("feeds", "import", str(opml), "--config", str(default_copy))
    assert dry.returncode == 0, dry.stderr
    assert default_copy.read_bytes() == before  # without --write nothing changes
    printed = tomllib.loads(dry.stdout)["feeds"]  # stdout is valid TOML: comments and [[feeds]]
    assert len(printed) == 39 and "skipped 1 already configured" in dry.stdout
    assert "# UN News: Peace & Security (folder: News / World)" in dry.stdout
    assert "# Syria Direct (folder: News / Middle East / Syria)" in dry.stdout

    wrote = run_cli("feeds", "import", str(opml), "--config", str(default_copy), "--write")
    assert wrote.returncode == 0, wrote.stderr
    after = default_copy.read_bytes()
    assert after.startswith(before)  # every byte, comment and blank line of the file as it was
    assert tomllib.loads(after.decode())["feeds"][3:] == printed

    check = run_cli("check-config", "--config", str(default_copy), "--json")
    assert check.returncode == 0, check.stderr
    names = json.loads(check.stdout)["feeds"]
    assert len(names) == 42 and len(set(names)) == 42

    export = run_cli("feeds", "export", "--config", str(default_copy))
    assert export.returncode == 0, export.stderr
    exported = {o.get("xmlUrl") for o in ElementTree.fromstring(export.stdout).iter("outline")}
    assert exported == set(listed) | {url for _, url in configured}

    again = run_cli("feeds", "import", str(opml), "--config", str(default_copy), "--write")
    assert again.returncode == 0 and "0 feed(s) to add; skipped 40 already configured" in again.stdout
    assert default_copy.read_bytes() == after


@pytest.mark.parametrize(
    ("opml", "where"),
    [
        (
            OPML.format('<outline text="A" xmlUrl="https://a.test/"/>\n<outline text="broken">'),
            "line 7: not well-formed",
        ),
        (
            OPML.format('<outline text="A" xmlUrl="https://a.test/"/>\n<outline text="No URL"/>'),
            "line 6: outline 'No URL'",
        ),
        (
            OPML.format('<outline text="A" xmlUrl="https://a.test/"/>\n<outline text="F" xmlUrl="file:///etc/x"/>'),
            "line 6: outline 'F'",
        ),
    ],
    ids=["malformed", "no-xmlUrl", "not-http"],
)
def test_a_bad_file_exits_non_zero_and_leaves_the_config_as_it_was(
    default_copy: Path, tmp_path: Path, opml: str, where: str
) -> None:
    before = default_copy.read_bytes()
    source = tmp_path / "bad.opml"
    source.write_text(opml, encoding="utf-8")
    result = run_cli("feeds", "import", str(source), "--config", str(default_copy), "--write")
    assert result.returncode == 1
    assert "bad.opml" in result.stderr and where in result.stderr and "nothing imported" in result.stderr
    assert default_copy.read_bytes() == before
    assert sorted(p.name for p in default_copy.parent.iterdir()) == ["monitor.toml"]  # no temp file left


def test_a_config_that_would_not_load_is_never_written(default_copy: Path, tmp_path: Path) -> None:
    """TOML cannot add [[feeds]] to an inline ``feeds = [...]``: the new file is checked before it replaces."""
    inline = 'feeds = [{ name = "a", url = "https://a.test/" }]\n\n[monitor]\ndatabase = "sqlite:///m.db"\n'
    default_copy.write_text(inline, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"monitor.toml \(with the imported feeds; not written\)"):
        import_feeds(default_copy, DATA / "reader.opml", write=True)
    assert default_copy.read_text(encoding="utf-8") == inline
    assert sorted(p.name for p in default_copy.parent.iterdir()) == ["monitor.toml"]


def test_write_keeps_the_files_mode_and_a_symlink(default_copy: Path, tmp_path: Path) -> None:
    default_copy.chmod(0o640)
    link = tmp_path / "link.toml"
    link.symlink_to(default_copy)
    assert import_feeds(link, DATA / "reader.opml", write=True).written
    assert link.is_symlink() and (default_copy.stat().st_mode & 0o777) == 0o640
    assert len(load_config(default_copy).feeds) == 5


@pytest.mark.e2e
def test_the_running_daemon_picks_up_imported_feeds(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/a.rss", rss([{"title": "A1", "link": "http://a.test/1", "description": "Hello."}]))
    feed_server.set("/b.rss", rss([{"title": "B1", "link": "http://b.test/1", "description": "Hello."}]))
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'[monitor]\ndatabase = "sqlite:///m.db"\npoll_interval = "1s"\njitter = 0\n\n'
        f'[[feeds]]\nname = "a"\nurl = "{feed_server.url("/a.rss")}"\n',
        encoding="utf-8",
    )
    opml = tmp_path / "b.opml"
    opml.write_text(OPML.format(f'<outline text="Feed B" xmlUrl="{feed_server.url("/b.rss")}"/>'), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: bool(feed_server.requests_to("/a.rss")))
        assert not feed_server.requests_to("/b.rss")
        result = run_cli("feeds", "import", str(opml), "--config", str(config), "--write")
        assert result.returncode == 0, result.stderr
        assert wait_for(lambda: bool(feed_server.requests_to("/b.rss"))), "the imported feed was never polled"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_feeds_export_to_a_file(default_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "feeds.opml"
    result = run_cli("feeds", "export", "-o", str(out), "--config", str(default_copy))
    assert result.returncode == 0 and "3 feed(s) written" in result.stderr
    assert [o.url for o in parse_opml(out.read_bytes(), "feeds.opml")] == [
        f.url for f in load_config(default_copy).feeds
    ]
