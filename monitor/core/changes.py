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
from collections import Counter
from collections.abc import Sequence
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


def changes(new_sentences: Sequence[str], known: Sequence[str]) -> tuple[Change, ...]:
    """Sentences of the new version that restate a known sentence with other values."""
    recent = list(dict.fromkeys(known))[-MAX_KNOWN:]
    # Exact strings, not normalised keys: a sentence that differs only in case or punctuation may become a
    # candidate, but its values are the same, so it is never reported (and keys cost more than the rest).
    present = set(new_sentences)
    candidates = [k for k in recent if k not in present]  # a replaced statement
    if not candidates:
        return ()
    contexts = [_context(k) for k in candidates]
    index: dict[str, list[int]] = {}
    for i, ctx in enumerate(contexts):
        for w in ctx:
            index.setdefault(w, []).append(i)
    known_set = set(recent)
    out: list[Change] = []
    used: set[int] = set()
    for s in new_sentences:
        if s in known_set:
            continue
        best = _best_match(_context(s), contexts, index, used)
        if best is None:
            continue
        values = _value_changes(candidates[best], s)
        if values:
            used.add(best)
            out.append(Change(candidates[best], s, values))
    return tuple(out)


def _best_match(
    ctx: frozenset[str], contexts: Sequence[frozenset[str]], index: dict[str, list[int]], used: set[int]
) -> int | None:
    shared: Counter[int] = Counter()
    for w in ctx:
        shared.update(index.get(w, ()))
    best, best_score = None, 0.0
    for i, n in shared.items():
        if i in used or n < _MIN_SHARED:
            continue
        score = n / len(ctx | contexts[i])
        if score > best_score:
            best, best_score = i, score
    return best if best_score >= SAME_STATEMENT else None


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
