"""What each story already holds, kept in memory between ingests (``core.novelty.KnownText``).

The database is the truth (``story_sentences``, written in the same transaction as the version); this is a
cache of it, bounded by the number of sentences it holds (least recently used stories go first). Under the
ingest lock a cached entry is brought up to date with the story's row: an entry that learnt every version
is used as it is; one that is behind (another instance wrote versions) reads only the sentences of the
versions it missed; a story not cached (or ahead of its row: a rolled-back write) is read whole, once.
Entries learn a version only after its transaction commits, like the match index.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from monitor.core.novelty import KnownText
from monitor.store.records import StoryRecord
from monitor.store.stories import IngestTx

# About 1.5 KB of memory per distinct sentence (text, key, words, inverted lists): ~75 MB at most.
DEFAULT_MAX_SENTENCES = 50_000


@dataclass
class _Entry:
    known: KnownText
    seq: int  # the versions of the story it has learnt


class KnownCache:
    """``KnownText`` per story id, least recently used first."""

    def __init__(self, max_sentences: int = DEFAULT_MAX_SENTENCES) -> None:
        self.max_sentences = max_sentences
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._size = 0
        self.loaded = 0  # sentences read from the database (the work a test counts)

    def __len__(self) -> int:
        return len(self._entries)

    def current(self, tx: IngestTx, story: StoryRecord) -> KnownText:
        """The story's known text as of its row (read under the ingest lock, so nothing is in flight)."""
        entry = self._entries.get(story.id)
        if entry is None or entry.seq > story.version_count:
            self.forget(story.id)
            entry = _Entry(KnownText(), 0)
        if entry.seq < story.version_count:
            fresh = tx.known_sentences(story.id, entry.seq)
            self.loaded += len(fresh)
            self._add(story.id, entry, fresh)
            entry.seq = story.version_count
        entry.known.last_title = story.title if story.version_count else None
        self._put(story.id, entry)
        return entry.known

    def learned(self, story_id: str, seq: int, title: str, sentences: list[str]) -> None:
        """Version ``seq`` of the story is committed: take in its new sentences (``KnownText.unseen``)."""
        entry = self._entries.get(story_id)
        if entry is None or entry.seq != seq - 1:
            self.forget(story_id)  # out of step: the next ingest reads the story again
            return
        self._add(story_id, entry, sentences)
        entry.known.last_title = title
        entry.seq = seq
        self._put(story_id, entry)

    def forget(self, story_id: str) -> None:
        entry = self._entries.pop(story_id, None)
        if entry is not None:
            self._size -= len(entry.known.sentences)

    def _add(self, story_id: str, entry: _Entry, sentences: list[str]) -> None:
        before = len(entry.known.sentences)
        entry.known.add_sentences(sentences)
        if story_id in self._entries:
            self._size += len(entry.known.sentences) - before

    def _put(self, story_id: str, entry: _Entry) -> None:
        if story_id not in self._entries:
            self._size += len(entry.known.sentences)
        self._entries[story_id] = entry
        self._entries.move_to_end(story_id)
        while self._size > self.max_sentences and len(self._entries) > 1:
            _, old = self._entries.popitem(last=False)
            self._size -= len(old.known.sentences)
