"""Text handling: HTML or plain text -> clean paragraphs and sentences, boilerplate marked.

Pure functions (stdlib only). This module decides what a *sentence* is and which sentences are not news
(photo captions, "Check back for updates", reporter credits); it does not decide what is new (that is
``core.novelty``) nor whether two articles are one story (``core.match``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from html.parser import HTMLParser

from monitor.core.prepared import SENTENCES, TEXTS

# Block-level tags end a paragraph; everything inside these is dropped entirely.
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "tr",
        "table",
        "pre",
        "hr",
        "figure",
    ]
)
_SKIP_TAGS = frozenset(["script", "style", "noscript", "template", "svg", "iframe", "object", "head", "figcaption"])


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


_TAG_HINT = re.compile(r"<[a-zA-Z/!][^>]*>")


def html_to_text(markup: str) -> str:
    """Turn an HTML fragment into plain text with paragraphs separated by blank lines.

    Plain text passes through unchanged (except entity decoding), so callers need not know which it is.
    """
    if not _TAG_HINT.search(markup):
        return html.unescape(markup)
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2009\u202f]+")


def paragraphs(text: str) -> list[str]:
    """Split plain text on blank lines; collapse white space inside each paragraph."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    out = []
    for block in re.split(r"\n\s*\n", text):
        para = _SPACES.sub(" ", block.replace("\n", " ")).strip()
        if para:
            out.append(para)
    return out


# Abbreviations that end in a period but do not end a sentence. Checked case-insensitively on the word
# before the period. Single capital letters (initials: "John F. Kerry", "U.N.") are handled separately.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "rep",
        "sen",
        "gov",
        "pres",
        "supt",
        "det",
        "insp",
        "cpl",
        "pvt",
        "adm",
        "maj",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "no",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "univ",
        "ave",
        "blvd",
        "rd",
        "hwy",
        "mt",
        "ft",
        "approx",
        "est",
        "fig",
        "vol",
    ]
)
_SENTENCE_END = re.compile(r"""([.!?]+)(["'”’)\]]*)\s+(?=["'“‘(\[]?[A-Z0-9])""")


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences.

    A deliberately simple rule-based splitter: a ``.``/``!``/``?`` followed by space and a capital or digit
    ends a sentence unless the word before it is a known abbreviation or an initial (``U.N.``, ``F.``).
    """
    sentences: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(paragraph):
        before = paragraph[start : m.start()]
        last_word = re.split(r"[\s(\"“]", before)[-1] if before else ""
        bare = last_word.rstrip(".").lower()
        if m.group(1) == "." and (
            bare in _ABBREVIATIONS or re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", last_word.rstrip("."))
        ):
            continue
        end = m.start(2) + len(m.group(2))
        piece = paragraph[start:end].strip()
        if piece:
            sentences.append(piece)
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


# "BEIRUT, Dec 22 (Reuters) – ", "WASHINGTON (AP) — ", "HAWTHORNE — ": a dateline is not news.
_DATELINE = re.compile(
    r"""^(?:[A-Z][A-Z .'’-]{2,40}"""  # PLACE
    r"""(?:,\s*[A-Z][A-Za-z.]*(?:\s+\d{1,2})?)?"""  # , Dec 22
    r"""\s*(?:\([A-Za-z .&]{2,30}\))?"""  # (Reuters)
    r"""|\([A-Za-z .&]{2,30}\))"""  # or only (AP)
    r"""\s*[–—-]{1,2}\s+"""  # the dash
)

# Sentences that are never news: update promises, credits, captions, calls to action.
_BOILERPLATE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"check back (?:later )?for (?:more )?updates",
        r"this (?:is a )?(?:developing|breaking) (?:news )?story",
        r"this story (?:will be|is being|has been|was) updated",
        r"(?:more|details) to (?:follow|come)",
        r"refresh (?:this page|for updates)",
        r"^\(?(?:reporting|writing|editing|additional reporting) by\b",
        r"^(?:photo|image|file photo|video|caption|credit)s?\s*[:|]",
        r"©|\(c\) \d{4}|all rights reserved",
        r"^(?:sign up|subscribe|click here|follow us|read more|related:|advertisement)\b",
        r"^copyright\b",
        r"contributed to this (?:report|story)",
    )
]


def strip_dateline(sentence: str) -> str:
    """Remove a leading wire dateline ("BEIRUT, Dec 22 (Reuters) – ") from a sentence."""
    return _DATELINE.sub("", sentence, count=1)


def is_boilerplate(sentence: str) -> bool:
    """True for sentences that carry no news: update promises, credits, photo captions."""
    known = SENTENCES.get(sentence)  # worked out in a parse worker (core.prepared)
    if known is not None:
        return known.boilerplate
    return any(p.search(sentence) for p in _BOILERPLATE)


def sentences(text: str) -> list[str]:
    """All sentences of a plain text, datelines stripped, in order (boilerplate included)."""
    return [s for para in paragraph_sentences(text) for s in para]


def paragraph_sentences(text: str) -> tuple[tuple[str, ...], ...]:
    """The sentences of each paragraph of a plain text (a wire dateline stripped from a paragraph's first
    sentence). Remembered for the few texts in flight: an ingest splits one body for the matcher, novelty
    and the furniture check (and a parse worker may have split it already: ``core.prepared``)."""
    known = TEXTS.get(text)
    return known.paragraphs if known is not None else _paragraph_sentences(text)


@lru_cache(maxsize=8)
def _paragraph_sentences(text: str) -> tuple[tuple[str, ...], ...]:
    out = []
    for para in paragraphs(text):
        sents = (strip_dateline(s) if i == 0 else s for i, s in enumerate(split_sentences(para)))
        out.append(tuple(s for s in sents if s))
    return tuple(out)


def news_sentences(text: str) -> list[str]:
    """The sentences of a text that can carry news (boilerplate removed)."""
    return [s for s in sentences(text) if not is_boilerplate(s)]


def news_sentences_of(text: str) -> tuple[str, ...]:
    """``news_sentences``, remembered for the few texts in flight: an ingest splits one body for the
    matcher's features, then for novelty and the store (splitting is most of a new article's regex time)."""
    known = TEXTS.get(text)
    return known.news if known is not None else _news_sentences_of(text)


@lru_cache(maxsize=8)
def _news_sentences_of(text: str) -> tuple[str, ...]:
    return tuple(news_sentences(text))


_WORD = re.compile(r"[^\W_]+(?:[’'.,-][^\W_]+)*", re.UNICODE)


def words(text: str) -> list[str]:
    """Word tokens, lower-cased; keeps "34,000", "U.N", "al-Rashideen" whole."""
    return [w.lower() for w in _WORD.findall(text)]


def sentence_key(sentence: str) -> str:
    """A normalised form for exact comparison: lower case, letters and digits only, single spaces."""
    known = SENTENCES.get(sentence)
    if known is not None:
        return known.key
    folded = unicodedata.normalize("NFKD", sentence).casefold()
    return " ".join(re.findall(r"[^\W_]+", folded))
