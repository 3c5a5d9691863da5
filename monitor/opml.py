"""OPML in and out: the subscription lists other feed readers export, and ours in OPML 2.0.

Pure: bytes in, values out. Reading the file, editing the config and writing it back is
``monitor/service/feed_import.py``'s job. An OPML file comes from elsewhere and is untrusted: it is parsed
with defusedxml, which refuses entity declarations (billion laughs) and external references.

What is read: every ``<outline>`` with an ``xmlUrl`` is a feed; an outline without one that holds outlines
is a folder (folders nest: they are flattened, their titles kept as a path); a leaf outline without an
``xmlUrl`` is an error, as is a feed URL that is not http(s). Every problem is reported with its line.
"""

from __future__ import annotations

import re
import unicodedata
import xml.sax
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

import defusedxml.sax
from defusedxml import DefusedXmlException

from monitor.errors import OpmlError

NAME_MAX = 64  # monitor/config/problems.py: a feed name is 1-64 letters, digits, '_', '.', '-'
_NOT_NAME = re.compile(r"[^a-z0-9_.-]+")
_SEPARATORS = re.compile(r"[-._]*-[-._]*")


@dataclass(frozen=True)
class Outline:
    """One feed of an OPML file."""

    title: str  # the outline's title, else its text ("" when it has neither)
    url: str  # its xmlUrl
    folders: tuple[str, ...]  # the folders it sits in, outermost first
    line: int

    def describe(self) -> str:
        where = " / ".join(self.folders)
        return self.title + (f" (folder: {where})" if where else "")


@dataclass
class _Open:
    title: str
    url: str
    line: int
    children: int = 0


@dataclass
class _Reader(ContentHandler):
    source: str
    outlines: list[Outline] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stack: list[_Open] = field(default_factory=list)
    root: str | None = None
    body: bool = False
    locator: Locator | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def line(self) -> int:
        return (self.locator.getLineNumber() or 0) if self.locator is not None else 0

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        if self.root is None:
            self.root = name
            if name != "opml":
                self.problems.append(f"line {self.line()}: not an OPML file (the root element is <{name}>)")
        self.body = self.body or name == "body"
        if name == "outline":
            # Some exporters write xmlurl or XMLURL: attribute names are matched without case.
            a = {k.lower(): v.strip() for k, v in attrs.items()}
            if self.stack:
                self.stack[-1].children += 1
            self.stack.append(_Open(a.get("title") or a.get("text") or "", a.get("xmlurl", ""), self.line()))

    def endElement(self, name: str) -> None:
        if name != "outline":
            return
        node = self.stack.pop()
        label = f"line {node.line}: outline {node.title!r}" if node.title else f"line {node.line}: an outline"
        if node.url:
            problem = url_problem(node.url)
            if problem:
                self.problems.append(f"{label}: xmlUrl {problem}")
            else:
                folders = tuple(o.title for o in self.stack if o.title)
                self.outlines.append(Outline(node.title, node.url, folders, node.line))
        elif not node.children:
            self.problems.append(f"{label} has no xmlUrl (a feed needs one; an empty folder can go)")


def url_problem(url: str) -> str | None:
    """Why this cannot be a feed URL of ours, or None (the same rule as the config's ``feeds[].url``)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or re.search(r"\s", url):
        return f"must be an http(s) URL, got: {url!r}"
    return None


def parse_opml(data: bytes, source: str) -> list[Outline]:
    """The feeds of an OPML file, in file order; ``OpmlError`` lists every problem, each with its line."""
    reader = _Reader(source)
    try:
        defusedxml.sax.parseString(data, reader, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except xml.sax.SAXParseException as e:
        raise OpmlError(source, [f"line {e.getLineNumber()}: not well-formed XML: {e.getMessage()}"]) from e
    except DefusedXmlException as e:
        raise OpmlError(source, [f"refused: {e} (entities and external references are not allowed)"]) from e
    problems = list(reader.problems)
    if reader.root == "opml" and not reader.body:
        problems.append("no <body>: an OPML file lists its outlines in <opml><body>")
    if problems:
        raise OpmlError(source, problems)
    return reader.outlines


# --- names and duplicates -----------------------------------------------------------------------------------


def same_url(url: str) -> str:
    """The form two URLs are compared in: scheme and host are case-insensitive, the rest is not."""
    parts = urlsplit(url.strip())
    netloc = parts.netloc.lower()
    return parts._replace(scheme=parts.scheme.lower(), netloc=netloc).geturl()


def _slug(text: str) -> str:
    """Turns "France 24 - World" into "france-24-world": each run of other characters becomes one "-"."""
    return _SEPARATORS.sub("-", _NOT_NAME.sub("-", text.lower())).strip("-._")


def feed_name(title: str, url: str, taken: set[str]) -> str:
    """A valid, unused feed name from the title (else the URL's host): lower case, ``-`` between words."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()  # "é" -> "e"
    base = _slug(ascii_title) or _slug(urlsplit(url).hostname or "") or "feed"
    base = base[:NAME_MAX].rstrip("-._")
    name, n = base, 1
    while name in taken:
        n += 1
        suffix = f"-{n}"
        name = base[: NAME_MAX - len(suffix)].rstrip("-._") + suffix
    taken.add(name)
    return name


@dataclass(frozen=True)
class NewFeed:
    name: str
    outline: Outline


@dataclass(frozen=True)
class ImportPlan:
    add: tuple[NewFeed, ...]
    configured: tuple[tuple[Outline, str], ...]  # outlines whose URL a configured feed has, with its name
    repeated: tuple[Outline, ...]  # outlines whose URL came earlier in the same file

    def summary(self) -> str:
        return (
            f"{len(self.add)} feed(s) to add; skipped {len(self.configured)} already configured, "
            f"{len(self.repeated)} listed twice in the file"
        )


def plan_import(outlines: Iterable[Outline], configured: Sequence[tuple[str, str]]) -> ImportPlan:
    """Which outlines become feeds (with unique names), and which are skipped as duplicates.

    ``configured`` is the config's feeds as (name, url).
    """
    by_url = {same_url(url): name for name, url in configured}
    taken = {name for name, _ in configured}
    seen: set[str] = set()
    add, known, repeated = [], [], []
    for o in outlines:
        key = same_url(o.url)
        if key in by_url:
            known.append((o, by_url[key]))
        elif key in seen:
            repeated.append(o)
        else:
            seen.add(key)
            add.append(NewFeed(feed_name(o.title, o.url, taken), o))
    return ImportPlan(tuple(add), tuple(known), tuple(repeated))


# --- out ----------------------------------------------------------------------------------------------------


def write_opml(feeds: Iterable[tuple[str, str]], title: str = "news-monitor feeds") -> str:
    """OPML 2.0 (http://opml.org/spec2.opml) listing ``feeds`` as (name, url), in order, flat."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    body = ElementTree.SubElement(root, "body")
    for name, url in feeds:
        ElementTree.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=url)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
