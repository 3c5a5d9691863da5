"""A fresh install's first polls, replayed from a labelled file (``backtest --cold-start``, ``fit``).

A new daemon's first poll brings articles about many different incidents at once into an empty matcher,
whose statistics are only the background prior; an hour later, follow-ups arrive. ``first_polls`` picks
such polls from a labelled file (one article per story and outlet), ``replay_poll`` runs one, and
``cold_start`` says how many stories each poll became and how often a follow-up joined its incident.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.core.match import Matcher, MatchInput, MatchSettings
from monitor.errors import MonitorError
from monitor.service.backtest import Record, publication_order, read_records


@dataclass(frozen=True)
class ColdStartReport:
    """A fresh install's first poll (``cold_start``): how many stories the poll's articles about different
    incidents became, and how often a second article about one of them joined it."""

    path: str
    polls: int
    poll_size: int
    mean_stories: float
    polls_with_a_merge: int
    follow_ups: int
    follow_up_joined: float  # share of follow-ups that joined their incident's story


POLL_TIME = datetime(2024, 1, 1, 12, tzinfo=UTC)


def _incidents(records: list[Record]) -> list[tuple[Record, Record]]:
    """(first article, a later one) of each labelled story with two scored articles at different URLs."""
    by_story: dict[str, list[Record]] = {}
    for r in publication_order(records):
        if r.scored and r.cluster:
            by_story.setdefault(r.cluster, []).append(r)
    out = []
    for docs in by_story.values():
        first = docs[0]
        later = [d for d in docs[1:] if not (d.url and d.url == first.url)]
        if later:
            out.append((first, later[0]))
    return out


def first_polls(path: Path, polls: int = 30, size: int = 20, seed: int = 13) -> list[list[tuple[Record, Record]]]:
    """The (first article, follow-up) pairs of ``size`` labelled stories from different outlets, per poll."""
    incidents = _incidents(read_records(path))
    if len(incidents) < size:
        raise MonitorError(f"{path}: {len(incidents)} labelled stories with two articles, a poll needs {size}")
    out = []
    for k in range(polls):
        picked: list[tuple[Record, Record]] = []
        outlets: set[str | None] = set()
        for first, later in random.Random(seed + k).sample(incidents, len(incidents)):
            if first.source not in outlets and len(picked) < size:
                outlets.add(first.source)
                picked.append((first, later))
        out.append(picked)
    return out


def replay_poll(picked: list[tuple[Record, Record]], settings: MatchSettings) -> tuple[list[str], list[str | None]]:
    """One first poll: each first article into an empty matcher, all at ``POLL_TIME`` (its story, a new one
    named by its place in the poll); then each follow-up an hour later, matched one at a time against that
    state, nothing added (the story it joined, or None)."""
    matcher = Matcher(settings)
    firsts: list[str] = []
    for i, (first, _) in enumerate(picked):
        article = MatchInput(first.doc_id, first.title, first.text, POLL_TIME, first.url, first.source)
        story = matcher.match(article).story or f"s{i}"
        matcher.add(story, article)
        firsts.append(story)
    when = POLL_TIME + timedelta(hours=1)
    joined = [
        matcher.match(MatchInput(later.doc_id, later.title, later.text, when, later.url, later.source)).story
        for _, later in picked
    ]
    return firsts, joined


def cold_start(
    path: Path, settings: MatchSettings | None = None, *, polls: int = 30, size: int = 20, seed: int = 13
) -> ColdStartReport:
    """Replay a fresh install's first poll ``polls`` times (``replay_poll``): ``size`` first articles of as
    many labelled stories, from different outlets (in local news: different towns), all published at one
    time into an empty matcher; then, an hour later, a second article of each story. The stories should stay
    apart and the follow-ups join them."""
    settings = settings or MatchSettings()
    stories_total, merged, joined, follow_ups = 0, 0, 0, 0
    for picked in first_polls(path, polls, size, seed):
        firsts, later = replay_poll(picked, settings)
        stories_total += len(set(firsts))
        merged += len(set(firsts)) < len(picked)
        joined += sum(story == first for story, first in zip(later, firsts, strict=True))
        follow_ups += len(picked)
    return ColdStartReport(
        str(path), polls, size, round(stories_total / polls, 2), merged, follow_ups, round(joined / follow_ups, 3)
    )
