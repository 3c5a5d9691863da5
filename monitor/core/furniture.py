"""Site furniture: the sentences a page carries around its article that are never news. Pure.

Two ways to know a sentence is furniture:

- *patterns* (``is_furniture``, in ``core.furniture_patterns``): newsletter sign-ups, "follow us", embed and
  video placeholders, "Read more"/"Related", "Advertisement", photo credits, copyright lines, cookie and
  paywall notices, "Updated 5 minutes ago", share counts, bylines and contact lines -- in English, German,
  French, Spanish, Italian, Portuguese, Dutch, Russian, Chinese, Japanese and Korean (the languages of the
  pages we measured on);
- *repetition* (``learnt``): a sentence one outlet prints in several different stories is that outlet's
  furniture. This module only says how a sentence is fingerprinted and where the line is
  (``LEARN_AFTER_STORIES``); counting distinct stories per outlet is the store's job
  (``store.furniture``), so what is learnt survives a restart.

``news_text`` returns a text with both kinds removed (paragraphs kept), which is what novelty compares.
It does not decide what is new (``core.novelty``) nor what a fact is (``core.facts``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from monitor.core import text as textmod
from monitor.core.furniture_patterns import is_furniture as is_furniture  # judged with the rest here
from monitor.core.prepared import SENTENCES

# A sentence seen in this many different stories of one outlet is furniture. Two is too few: on the GVA
# articles (docs/novelty.md) a third of the sentences one outlet printed in exactly two stories were news
# (roundups, one article filed under two incidents); from three on they are nearly all furniture.
LEARN_AFTER_STORIES = 3

# A one-line paragraph of at most this many words that does not end like a sentence is a caption,
# heading or label (measured on article pages: such lines are in the article body about half the time).
CAPTION_WORDS = 8
_TERMINAL = re.compile(r"[.!?。！？…\"”’')\]»]\s*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _title_like(sentence: str, title_key: str) -> bool:
    """The article's own headline (or a near copy) printed in its body: the headline is not a body
    sentence (a changed headline is reported as ``headline_changed``)."""
    if not title_key or len(sentence) > 2 * len(title_key) + 20:
        return False  # far longer than the headline: not a copy of it (and no key to compute)
    first = title_key.split(" ", 1)[0]
    if first.isascii() and first not in sentence.lower():
        return False  # a copy of the headline holds its first word (checked before the costlier key)
    key = textmod.sentence_key(sentence)
    if not key or not title_key:
        return False
    return key == title_key or (len(key) >= 20 and (key in title_key or title_key in key))


def _caption_like(paragraph_sentences: list[str]) -> bool:
    """A paragraph that is one line without a sentence's end: a heading, caption, link or label. Long
    CJK lines carry no spaces, so they are never counted short here. A footnote ("[2] Joint Commission
    ...") is the article's own reference, not a caption."""
    if len(paragraph_sentences) != 1:
        return False
    line = paragraph_sentences[0]
    if _TERMINAL.search(line) or _CJK.search(line) or _FOOTNOTE.match(line):
        return False
    return len(_alpha_words(line)) <= CAPTION_WORDS or " | " in line or _title_case(line)


_FOOTNOTE = re.compile(r"\[\d{1,3}\]\s")
_BULLET = re.compile(r"^[\s\-–—•*·]+")
_PUNCT = re.compile(r"[^\w\s]")
_DURATION = re.compile(r"\d{1,2}:\d\d\s")  # "1:17 Apartment complex floods": a video playlist
# Consecutive caption-like lines that form a data list ("Russia (Group I): 12th appearance", "Blue Origin,
# Kent, Washington"): at least this many in a row, of one punctuation shape.
LIST_LINES = 3


def _alpha_words(line: str) -> list[str]:
    return [w for w in line.split() if any(c.isalpha() for c in w)]


def _title_case(line: str) -> bool:
    """Title Case lines of any length are headlines of other stories ("11 Fascinating Facts About ...")."""
    words = _alpha_words(line)
    return len(words) >= 3 and sum(w[:1].isupper() for w in words) / len(words) >= 0.6


def _shape(line: str) -> str:
    """The punctuation of a line without its bullet ("- Russia (Group I): 12th appearance" -> "():"); ""
    for a line that cannot be a list item: no word (a phone number, a figure), a "|" (navigation, widget
    markup) or a leading duration (a video playlist)."""
    line = _BULLET.sub("", line)
    shape = "".join(_PUNCT.findall(line))
    return "" if "|" in shape or not _alpha_words(line) or _DURATION.match(line) else shape


def _list_items(lines: list[str]) -> list[bool]:
    """Which of a run of consecutive caption-like lines are items of a data list, i.e. article content:
    ``LIST_LINES`` or more different lines in a row sharing one punctuation shape ("Name (Group X): value").
    A list of other stories' headlines stays furniture: their punctuation differs from line to line
    ("- 15 Amazing Images of Stars", "- Photos: Europa, Mysterious Icy Moon of Jupiter"), and a credit
    repeated under every photo ("Deren Martinez/KTVB") is one line, not a list."""
    keep = [False] * len(lines)
    shapes = [_shape(line) for line in lines]
    start = 0
    for i in range(1, len(lines) + 1):
        if i == len(lines) or shapes[i] != shapes[start]:
            if shapes[start] and len(set(lines[start:i])) >= LIST_LINES:
                keep[start:i] = [True] * (i - start)
            start = i
    return keep


def fingerprint(sentence: str) -> str:
    """A short, stable id of a sentence (case-folded, white space collapsed, hashed): what the furniture
    store counts. Furniture repeats verbatim, so no costlier normalisation is needed."""
    known = SENTENCES.get(sentence)
    return known.fingerprint if known is not None else _fingerprint(sentence)


@lru_cache(maxsize=4096)  # pure: a version's sentences are fingerprinted, then looked up in what is learnt
def _fingerprint(sentence: str) -> str:
    return hashlib.blake2b(" ".join(sentence.casefold().split()).encode(), digest_size=8).hexdigest()


def outlet_key(url: str | None, source: str) -> str:
    """Who prints the furniture: the article's host without ``www.``/``m.``, else the feed's name."""
    host = (urlsplit(url).hostname or "") if url else ""
    host = host.lower().removeprefix("www.").removeprefix("m.")
    return host or f"feed:{source}"


def split(text: str) -> list[list[str]]:
    """The paragraphs of ``text``, each a list of its sentences, exactly as ``core.text.sentences`` splits
    them (a wire dateline stripped from a paragraph's first sentence)."""
    return [list(para) for para in textmod.paragraph_sentences(text)]


def fingerprints(text: str | list[list[str]]) -> list[str]:
    """The fingerprints of every sentence of a text (or of its ``split``), in order, once each."""
    paras = split(text) if isinstance(text, str) else text
    return list(dict.fromkeys(fingerprint(s) for para in paras for s in para))


def news_sentences(text: str, *, title: str = "", learnt: Collection[str] = frozenset()) -> list[str]:
    return [s for s, keep in judged(text, title, learnt) if keep]


def news_text(text: str, *, title: str = "", learnt: Collection[str] = frozenset()) -> str:
    """``text`` without its furniture, paragraphs kept (blank-line separated) so later steps split alike."""
    return joined(judge(split(text), title, learnt))


def joined(paragraphs: list[list[tuple[str, bool]]]) -> str:
    """The news sentences of judged paragraphs as a text (blank lines between paragraphs)."""
    paras = (" ".join(s for s, keep in para if keep) for para in paragraphs)
    return "\n\n".join(p for p in paras if p)


def judged(text: str, title: str = "", learnt: Collection[str] = frozenset()) -> Iterable[tuple[str, bool]]:
    """Every sentence of ``text`` (as ``core.text.sentences`` splits it) with whether it is news."""
    for para in judge(split(text), title, learnt):
        yield from para


def judge(paragraphs: list[list[str]], title: str, learnt: Collection[str]) -> list[list[tuple[str, bool]]]:
    """Split paragraphs, each sentence paired with whether it is news (not furniture of any kind)."""
    title_key = textmod.sentence_key(title) if title else ""
    many = len(paragraphs) > 1  # a lone line is the article itself (a feed's short summary), not a caption
    captions = [many and _caption_like(sents) for sents in paragraphs]
    # A run of LIST_LINES or more caption-like lines may be a data list: its items are content.
    i = 0
    while i < len(paragraphs):
        j = i
        while j < len(paragraphs) and captions[j]:
            j += 1
        if j - i >= LIST_LINES:
            items = _list_items([paragraphs[k][0] for k in range(i, j)])
            captions[i:j] = [not item for item in items]
        i = max(j, i + 1)
    return [
        [(s, not (caption or _is_junk(s, title_key, learnt))) for s in sents]
        for sents, caption in zip(paragraphs, captions, strict=True)
    ]


def _is_junk(sentence: str, title_key: str, learnt: Collection[str]) -> bool:
    if is_furniture(sentence) or _title_like(sentence, title_key):
        return True
    return bool(learnt) and fingerprint(sentence) in learnt
