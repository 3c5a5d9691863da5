"""A story's lifecycle: open -> quiet -> closed. Pure: ``now`` is an argument.

A developing story is *open* while versions keep arriving, *quiet* once none has for ``quiet_after``, and
*closed* after ``close_after``; a new version re-opens a quiet story (a closed one stays closed: the next
article starts a new story, as a newsroom would file it). Closing a tracked story sends ``story.closed``.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def next_status(status: str, last_update: datetime, now: datetime, quiet_after: float, close_after: float) -> str:
    """The status a story should have now (never moves backwards from ``closed``)."""
    if status == "closed":
        return "closed"
    idle = now - last_update
    if idle >= timedelta(seconds=close_after):
        return "closed"
    if idle >= timedelta(seconds=quiet_after):
        return "quiet"
    return "open"
