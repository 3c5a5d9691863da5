"""An index of the sentences a story already holds, grown one version at a time. Pure.

Novelty asks three questions of everything known of a story: is this exact sentence known (its key), is
it a rewrite of one known sentence (most of its informative words inside that sentence), and does this
name or quote appear in a known sentence (as whole words). Asked by scanning every earlier sentence, each
question costs time in proportion to the story, and a story followed by a hundred outlets reaches
thousands of versions. This index answers them from:

- a set of sentence keys (exact repeats);
- inverted lists word -> sentences, so a rewrite check only looks at the sentences that share one of the
  sentence's rarest words (the *prefix filter* of set-similarity joins: a sentence holding ``need`` of my
  ``n`` words must hold one of any ``n - need + 1`` of them), and a name or quote only at the sentences
  holding its rarest key word.

A word the story uses everywhere ("Aleppo" in a story about Aleppo) has a list as long as the story, so
each lookup reads at most the ``RECENT`` latest sentences of a list: the answer is exact while a word is in
fewer sentences than that, and otherwise is "a rewrite of one of the recent sentences holding its rarest
words" (a rewrite of an update is usually a rewrite of a recent one). That bound is what keeps the work
per version from growing with the story on text with a small vocabulary.

Each distinct sentence is stored once, however many versions repeat it. ``compared`` counts the
sentences looked at, so a test can show the work does not grow with the story. It knows nothing of what
counts as informative or as a number (``core.novelty`` decides that and feeds it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

# Sentences read per word list and query, newest first (see the module docstring).
RECENT = 128


@dataclass
class SentenceIndex:
    """Distinct sentences of one story: keys, informative words, and the inverted lists over both."""

    keys: set[str] = field(default_factory=set)
    # Informative words, per sentence: a tuple of shared (interned) strings is a sixth of a frozenset's memory.
    words: list[tuple[str, ...]] = field(default_factory=list)
    key_text: list[str] = field(default_factory=list)  # the sentence key, per sentence
    by_word: dict[str, list[int]] = field(default_factory=dict)  # informative word -> sentences
    by_token: dict[str, list[int]] = field(default_factory=dict)  # key token -> sentences
    compared: int = 0  # sentences looked at by the queries (the work a test counts)
    runs: bool = True  # keep the key-word lists ``holds_run`` needs (one version's scratch index does not)

    def __len__(self) -> int:
        return len(self.words)

    def add(self, key: str, words: Iterable[str]) -> None:
        """One more distinct sentence (the caller drops exact duplicates)."""
        i = len(self.words)
        # Interned: a story's index lives long and repeats its words; one version's scratch index does not.
        mine = tuple(sys.intern(w) for w in dict.fromkeys(words)) if self.runs else tuple(dict.fromkeys(words))
        self.keys.add(key)
        self.words.append(mine)
        self.key_text.append(key)
        for w in mine:
            self.by_word.setdefault(w, []).append(i)
        if self.runs:
            for t in set(key.split()):
                self.by_token.setdefault(t, []).append(i)

    def holds_share(self, mine: frozenset[str] | set[str], share: float) -> bool:
        """Is there one sentence holding at least ``share`` of ``mine`` (``len(common) / len(mine) >=
        share``, the very test of a scan)? Only sentences sharing one of the rarest words are looked at."""
        n = len(mine)
        if n == 0 or not self.words:
            return False  # no share of nothing (novelty calls a sentence without informative words known)
        need = _least_count(n, share)
        if need > n:
            return False
        rare = sorted(mine, key=lambda w: len(self.by_word.get(w, ())))
        seen: set[int] = set()
        for w in rare[: n - need + 1]:
            for i in _recent(self.by_word.get(w, [])):
                if i in seen:
                    continue
                seen.add(i)
                self.compared += 1
                if len(mine.intersection(self.words[i])) >= need:
                    return True
        return False

    def holds_run(self, key: str) -> bool:
        """Does one sentence's key hold ``key`` as whole words in a row ("de mistura" in "u n envoy
        staffan de mistura said")? Looks only at the sentences holding its rarest word."""
        tokens = key.split()
        if not tokens or not self.runs:
            return False
        lists = [self.by_token.get(t, []) for t in set(tokens)]
        for i in _recent(min(lists, key=len)):
            self.compared += 1
            if _has_run(self.key_text[i], key):
                return True
        return False


def _recent(sentences: list[int]) -> Iterable[int]:
    return islice(reversed(sentences), RECENT)


def _least_count(n: int, share: float) -> int:
    """The smallest ``k`` with ``k / n >= share``, found with the same float division the test uses."""
    k = max(0, int(n * share) - 1)
    while k <= n and k / n < share:
        k += 1
    return k


def _has_run(text: str, run: str) -> bool:
    if text == run:
        return True
    return text.startswith(run + " ") or text.endswith(" " + run) or f" {run} " in text
