"""What an outlet prints in many stories, learnt from repetition and kept across restarts.

``observe`` counts, per outlet and sentence fingerprint (``core.furniture.fingerprint``), the distinct
stories a sentence was seen in; ``learnt`` says which fingerprints count as furniture
(``core.furniture.LEARN_AFTER_STORIES`` stories or more). Both run inside the ingest transaction (its
lock orders every writer), with a constant number of statements per article: one read of the rows
concerned, one batch of inserts, one batch of updates. ``forget_unconfirmed`` lets housekeeping drop
sentences that were seen in too few stories for too long, so the table grows with an outlet's furniture
and recent sentences, not with all text ever read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from monitor.core.furniture import LEARN_AFTER_STORIES
from monitor.store.db import Database
from monitor.store.schema import furniture

# A sentence not seen in enough stories within this time is forgotten (housekeeping): furniture recurs
# within days; a sentence that took longer was a coincidence, and keeping it would keep all text ever read.
FORGET_AFTER = timedelta(days=30)
_CHUNK = 500  # fingerprints per IN (...) list: well under every backend's bound-parameter limit


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


# Built once (every ingest runs them): building a statement per call cost twice what running it does.
_OF_OUTLET = (furniture.c.outlet == bindparam("outlet"), furniture.c.fingerprint.in_(bindparam("fps", expanding=True)))
_ROWS = select(furniture.c.fingerprint, furniture.c.stories, furniture.c.story_ids).where(*_OF_OUTLET)
_LEARNT = select(furniture.c.fingerprint).where(*_OF_OUTLET, furniture.c.stories >= LEARN_AFTER_STORIES)
_GROW = (
    update(furniture)
    .where(furniture.c.outlet == bindparam("of"), furniture.c.fingerprint == bindparam("fp"))
    .values(stories=bindparam("n"), story_ids=bindparam("ids"))
)


def _rows(conn: Connection, outlet: str, fps: Sequence[str]) -> dict[str, tuple[int, list[str]]]:
    found: dict[str, tuple[int, list[str]]] = {}
    for part in _chunks(fps):
        for row in conn.execute(_ROWS, {"outlet": outlet, "fps": list(part)}):
            found[row.fingerprint] = (row.stories, list(row.story_ids or []))
    return found


def observe(conn: Connection, outlet: str, story_id: str, fps: Sequence[str], now: datetime) -> dict[str, int]:
    """Count story ``story_id`` once for each fingerprint of one of its versions; returns each one's count of
    stories as it now stands (what ``learnt`` would read back)."""
    fps = list(dict.fromkeys(fps))
    if not fps:
        return {}
    known = _rows(conn, outlet, fps)
    counts = dict.fromkeys(fps, 1)  # a new row counts this story
    fresh = [
        {"outlet": outlet, "fingerprint": fp, "stories": 1, "story_ids": [story_id], "first_seen": now}
        for fp in fps
        if fp not in known
    ]
    grown = []
    for fp, (count, ids) in known.items():
        counts[fp] = count
        if count >= LEARN_AFTER_STORIES or story_id in ids:
            continue  # already furniture, or this story was counted before
        counts[fp] = count + 1
        more = [*ids, story_id]
        # Once it is furniture the ids are no longer needed: only the count is kept.
        grown.append({"of": outlet, "fp": fp, "n": count + 1, "ids": [] if count + 1 >= LEARN_AFTER_STORIES else more})
    if fresh:
        conn.execute(insert(furniture), fresh)
    if grown:
        conn.execute(_GROW, grown)
    return counts


def learnt(
    conn: Connection, outlet: str, fps: Sequence[str], counted: Mapping[str, int] | None = None
) -> frozenset[str]:
    """Which of ``fps`` this outlet has printed in enough different stories to be its furniture. ``counted``:
    the counts ``observe`` just returned, in this transaction (those fingerprints are not read again)."""
    counted = counted or {}
    out = {fp for fp in fps if counted.get(fp, 0) >= LEARN_AFTER_STORIES}
    for part in _chunks([fp for fp in dict.fromkeys(fps) if fp not in counted]):
        out.update(r.fingerprint for r in conn.execute(_LEARNT, {"outlet": outlet, "fps": list(part)}))
    return frozenset(out)


def outlet_furniture(db: Database, outlet: str) -> frozenset[str]:
    """Every fingerprint learnt as ``outlet``'s furniture (for the pages, which show it grey)."""
    query = select(furniture.c.fingerprint).where(
        furniture.c.outlet == outlet, furniture.c.stories >= LEARN_AFTER_STORIES
    )
    with db.read() as conn:
        return frozenset(r.fingerprint for r in conn.execute(query))


def forget_unconfirmed(db: Database, seen_before: datetime) -> int:
    """Drop sentences first seen before ``seen_before`` that never reached furniture."""
    stmt = delete(furniture).where(
        and_(furniture.c.stories < LEARN_AFTER_STORIES, furniture.c.first_seen < seen_before)
    )
    with db.write() as conn:
        return conn.execute(stmt).rowcount or 0
