"""Changes as changes: a fact restated with another value, and news sentences an item dropped. Pure.

NewsEdits (Spangher et al., NAACL 2022) sorts sentence-level edits between article versions into
additions, deletions and edits; a desk following a death toll wants the edits whose *values* moved:
"at least 34,000 evacuated" -> "at least 37,000 evacuated", "two dead" -> "three dead", a corrected name.

``changes`` pairs each sentence of the new version that is not already known word for word with the
known sentence that says nearly the same thing in other values (most of its context words shared), and
reports the pair when numbers or names differ. ``removed`` lists the news sentences the same item
printed in its previous version and no longer prints (in any wording), leaving out those that were
replaced by a change. Callers hand in furniture-free sentences (``core.furniture``): furniture is never
reported as removed.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from functools import lru_cache

from monitor.core import text as textmod
from monitor.core.facts import WORD_NUMBERS, extract_names, extract_numbers
from monitor.core.model import Change

# Share of context words (all informative words but numbers) two sentences must share to be one
# statement with different values.
SAME_STATEMENT = 0.6
_MIN_SHARED = 2
# A dropped sentence whose words are at least this share inside one new sentence was only reworded.
_REWORDED = 0.8
MAX_KNOWN = 400  # the most recent known sentences looked at (a long story's early text rarely restated)
_VALUE = re.compile(r"\d[\d,.]*\d|\d|\b(?:" + "|".join(WORD_NUMBERS) + r"|one)\b", re.IGNORECASE)
_STOP = frozenset(
    str.split(
        "the and but for with from that this was were are has have had been not its his her their they said "
        "says who which when where after before about into over than also more some police officials"
    )
)


def _values(sentence: str) -> list[str]:
    return [v.lower() for v in _VALUE.findall(sentence)]


# Remembered: each ingest compares with the story's latest MAX_KNOWN sentences, nearly the same ones as the
# ingest before it; tokenising them all again was most of an ingest's CPU once a story held 400 sentences.
@lru_cache(maxsize=4 * MAX_KNOWN)
def _context(sentence: str) -> frozenset[str]:
    return frozenset(
        w
        for w in textmod.words(sentence)
        if len(w) > 2 and w not in _STOP and not _VALUE.fullmatch(w) and not w[0].isdigit()
    )


def _diff(old: Sequence[str], new: Sequence[str]) -> list[tuple[str, str]]:
    """Values of ``old`` not in ``new`` paired in order with values of ``new`` not in ``old``."""
    gone = list((Counter(old) - Counter(new)).elements())
    came = list((Counter(new) - Counter(old)).elements())
    gone = [v for v in old if v in gone]
    came = [v for v in new if v in came]
    return list(zip(dict.fromkeys(gone), dict.fromkeys(came), strict=False))


def _value_changes(old: str, new: str) -> tuple[tuple[str, str], ...]:
    pairs = _diff(extract_numbers(old), extract_numbers(new))
    if not pairs:
        pairs = _diff(_values(old), _values(new))
    pairs += _diff(extract_names(old), extract_names(new))
    return tuple(pairs)


class RecentKnown:
    """The latest ``MAX_KNOWN`` distinct known sentences of a story, with an inverted index of their context
    words, slid one sentence at a time as the story learns them. ``changes`` against it gives what it gives
    against the list of those sentences, without re-indexing all of them for every version (rebuilding the
    index was most of ``changes``' cost once a story held 400 sentences)."""

    def __init__(self) -> None:
        self.count = 0  # sentences taken in so far (the position the next one gets)
        self._text: dict[int, str] = {}  # position -> sentence, the window only
        self._context: dict[int, frozenset[str]] = {}
        self._position: dict[str, int] = {}  # sentence -> position, the window only
        self._by_word: dict[str, deque[int]] = {}  # context word -> positions, ascending

    def __len__(self) -> int:
        return len(self._text)

    def extend(self, sentences: Sequence[str]) -> None:
        """Take in the next sentences (distinct, as ``KnownText.sentences`` lists them), oldest first."""
        skipped = max(0, len(sentences) - MAX_KNOWN)
        self.count += skipped  # they would only pass through the window
        for s in sentences[skipped:]:
            self._add(s)

    def _add(self, sentence: str) -> None:
        pos, self.count = self.count, self.count + 1
        ctx = _context(sentence)
        self._text[pos], self._context[pos] = sentence, ctx
        self._position[sentence] = pos
        for w in ctx:
            self._by_word.setdefault(w, deque()).append(pos)
        oldest = pos - MAX_KNOWN
        if oldest in self._text:  # slide: the oldest sentence leaves the window
            gone = self._text.pop(oldest)
            if self._position.get(gone) == oldest:
                del self._position[gone]
            for w in self._context.pop(oldest):
                left = self._by_word[w]
                left.popleft()  # positions are ascending: the oldest is first
                if not left:
                    del self._by_word[w]
        # Sentences before ``oldest`` that never reached the window (``extend`` skipped them) hold nothing.

    def best_match(self, ctx: frozenset[str], skip: set[int]) -> int | None:
        """The window's sentence that says what ``ctx`` says (the highest share of context words in common,
        at least ``SAME_STATEMENT``; positions in ``skip`` are not candidates), as counting every shared word
        of every sentence would find it, ties to the sentence that count meets first. Only sentences holding
        one of the ``n - need + 1`` rarest words can share ``need`` of ``n`` (the prefix filter of
        ``core.known``), so only those are compared."""
        n = len(ctx)
        need = max(_MIN_SHARED, _least_count(n, SAME_STATEMENT))
        if need > n:
            return None
        rare = sorted(ctx, key=lambda w: len(self._by_word.get(w, ())))[: n - need + 1]
        found: set[int] = set()
        for w in rare:
            found.update(self._by_word.get(w, ()))
        best, best_score = None, 0.0
        for i in found - skip:
            other = self._context[i]
            shared = len(ctx & other)
            if shared < need:
                continue
            score = shared / len(ctx | other)
            if score > best_score or (score == best_score and best is not None and self._first(ctx, i, best)):
                best, best_score = i, score
        return best if best_score >= SAME_STATEMENT else None

    def _first(self, ctx: frozenset[str], i: int, j: int) -> bool:
        """Does a count over ``ctx``'s words (in its order, positions ascending) meet ``i`` before ``j``?"""
        for w in ctx:
            in_i, in_j = w in self._context[i], w in self._context[j]
            if in_i or in_j:
                return in_i and (not in_j or i < j)
        return False


def _least_count(n: int, share: float) -> int:
    """The smallest ``k`` with ``k / n >= share``, found with the same float division the test uses."""
    if n == 0:
        return 1
    k = max(0, int(n * share) - 1)
    while k <= n and k / n < share:
        k += 1
    return k


def changes(new_sentences: Sequence[str], known: Sequence[str] | RecentKnown) -> tuple[Change, ...]:
    """Sentences of the new version that restate a known sentence with other values. ``known``: the story's
    earlier sentences (the latest ``MAX_KNOWN`` distinct ones count), or a ``RecentKnown`` of them."""
    if isinstance(known, RecentKnown):
        return _changes_recent(new_sentences, known)
    recent = RecentKnown()
    recent.extend(list(dict.fromkeys(known)))
    return _changes_recent(new_sentences, recent)


def _changes_recent(new_sentences: Iterable[str], recent: RecentKnown) -> tuple[Change, ...]:
    # Exact strings, not normalised keys: a sentence that differs only in case or punctuation may become a
    # candidate, but its values are the same, so it is never reported (and keys cost more than the rest).
    new_sentences = list(new_sentences)
    position = recent._position
    skip = {position[s] for s in set(new_sentences) if s in position}  # a replaced statement is a candidate
    if len(skip) == len(recent):
        return ()
    out: list[Change] = []
    for s in new_sentences:
        if s in position:
            continue
        best = recent.best_match(_context(s), skip)
        if best is None:
            continue
        old = recent._text[best]
        values = _value_changes(old, s)
        if values:
            skip.add(best)
            out.append(Change(old, s, values))
    return tuple(out)


def removed(previous: Sequence[str], new_sentences: Sequence[str], changed: Sequence[Change] = ()) -> tuple[str, ...]:
    """News sentences of the item's previous version that the new version no longer prints."""
    keys = {textmod.sentence_key(s) for s in new_sentences}
    replaced = {textmod.sentence_key(c.old) for c in changed}
    new_words = [set(textmod.words(s)) for s in new_sentences]
    out: list[str] = []
    for s in dict.fromkeys(previous):
        key = textmod.sentence_key(s)
        if key in keys or key in replaced:
            continue
        mine = {w for w in textmod.words(s) if len(w) > 2}
        if mine and any(len(mine & other) / len(mine) >= _REWORDED for other in new_words):
            continue  # reworded, not removed
        out.append(s)
    return tuple(out)
