"""Work out an article's text before any story is looked at (``core.prepared`` says why). Pure.

``prepare`` runs the very functions the ingest would run on the headline and body (sentence split, keys,
informative words, numbers, names, quotes, furniture and boilerplate patterns, fingerprints, developing
markers), in whatever process calls it: the poller calls it in its parse worker processes, beside the parse,
so that the ingest thread, which holds the ingest lock, only matches, decides what is new and writes.
"""

from __future__ import annotations

from monitor.core import facts, furniture, novelty, signals
from monitor.core import text as textmod
from monitor.core.developing import developing_markers
from monitor.core.prepared import Prepared, SentenceFacts, TextFacts


def prepare(title: str, body: str, html_markers: tuple[str, ...] = ()) -> Prepared:
    """The worked-out headline and body of one article."""
    paragraphs = textmod.paragraph_sentences(body)
    news = textmod.news_sentences_of(body)
    markers = developing_markers(title, body, html_markers)
    text = TextFacts(paragraphs, news, title, html_markers, markers)
    sentences = {s: sentence_facts(s) for s in (title, *(s for para in paragraphs for s in para)) if s}
    return Prepared(text, sentences, signals.text_signals(title, body))


def sentence_facts(sentence: str) -> SentenceFacts:
    key = textmod.sentence_key(sentence)
    return SentenceFacts(
        key=key,
        informative=" ".join(novelty.informative_words(sentence)),
        numbers=tuple(facts.extract_numbers(sentence)),
        names=tuple(facts.extract_names(sentence)),
        quotes=tuple(facts.extract_quotes(sentence)),
        furniture=furniture.is_furniture(sentence),
        boilerplate=textmod.is_boilerplate(sentence),
        fingerprint=furniture.fingerprint(sentence),
    )
