"""Pure presentation helpers for the pages: highlight what a version added, explain a match, show times.

No I/O and no clock: ``now`` is a parameter, like everywhere else in the decision code.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor import render
from monitor.core import changes as changemod
from monitor.core import furniture
from monitor.core import text as textmod
from monitor.core.model import Change

# The keys of a version's ``match`` JSON that a reader wants first; the rest follow in stored order.
_FIRST = ("signal", "rule", "score", "shared_names", "rare_shared_names", "shared_lede")


@dataclass(frozen=True)
class Sentence:
    text: str
    kind: str  # added (new in this version) | known (in an earlier version) | boilerplate (never news)

    @property
    def added(self) -> bool:
        return self.kind == "added"


def highlight(body: str, added: Iterable[str], learnt: Collection[str] = frozenset()) -> list[list[Sentence]]:
    """The paragraphs of ``body`` as sentences, each marked added, known or boilerplate.

    Sentences are split exactly as ``core.novelty`` split them (same splitter, same dateline rule), and
    compared by ``sentence_key``, so what is highlighted is what the alert reported as new. Boilerplate
    ("check back for updates", photo credits) and site furniture (by its form, or ``learnt`` from the
    outlet's repetition, ``core.furniture``) are told apart, as they were never compared at all.
    """
    keys = {textmod.sentence_key(s) for s in added}
    out: list[list[Sentence]] = []
    for para in textmod.paragraphs(body):
        row = []
        for i, s in enumerate(textmod.split_sentences(para)):
            core = textmod.strip_dateline(s) if i == 0 else s
            if textmod.sentence_key(core) in keys:
                kind = "added"
            else:
                junk = furniture.is_furniture(core) or (bool(learnt) and furniture.fingerprint(core) in learnt)
                kind = "boilerplate" if junk else "known"
            row.append(Sentence(s, kind))
        out.append(row)
    return out


@dataclass(frozen=True)
class Edits:
    """What a version changed and dropped, for the timeline (the alert computed the same, see
    ``service.updates``)."""

    changed: tuple[Change, ...] = ()
    removed: tuple[str, ...] = ()


def edits(versions: Sequence[Any], learnt: Collection[str] = frozenset()) -> list[Edits]:
    """For each version (``store.records.VersionRecord``, oldest first): the values it changed against
    the story's earlier versions and the news sentences its item's previous version printed and it dropped."""
    out: list[Edits] = []
    known: list[str] = []
    last_of_item: dict[tuple[str, str], list[str]] = {}
    for v in versions:
        a = v.article
        mine = furniture.news_sentences(a.text, title=a.title, learnt=learnt)
        changed = changemod.changes(mine, known) if known else ()
        before = last_of_item.get((a.source, a.guid))
        gone = changemod.removed(before, mine, changed) if before is not None else ()
        out.append(Edits(changed, gone))
        known.extend(mine)
        last_of_item[(a.source, a.guid)] = mine
    return out


def count(paragraphs: list[list[Sentence]], kind: str) -> int:
    return sum(s.kind == kind for para in paragraphs for s in para)


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}={_show(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value is None else str(value)


def why(match: dict[str, Any], *, opened: bool = False) -> list[tuple[str, str]]:
    """A version's ``match`` JSON as (label, value) rows: why the daemon linked it to the story.
    ``opened``: the version opened the story, so the rows say why no earlier story took it."""
    rows = [("outcome", "opened this story: no earlier story matched")] if opened else []
    keys = [k for k in _FIRST if k in match] + [k for k in match if k not in _FIRST]
    return rows + [(k.replace("_", " "), _show(match[k])) for k in keys]


def ago(when: datetime | None, now: datetime) -> str:
    return render.ago(when, now, none="never")


def iso(when: datetime | None) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z") if when else ""
