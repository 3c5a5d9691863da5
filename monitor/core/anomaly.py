"""The feed circuit breaker's decision: does one poll look like a publisher glitch rather than news? Pure.

When most of a known feed's items carry GUIDs we have never seen, in a single poll, the likely causes are
regenerated GUIDs, a template change or an error page (Huginn's most reported flood). Real news arrives a
few items at a time. Such a poll's alerts are held and one ``feed.anomaly`` is sent instead.
"""

from __future__ import annotations

MIN_ITEMS = 5  # small feeds turn over completely in normal operation
UNSEEN_SHARE = 0.6


def looks_anomalous(known_before: int, total: int, unseen: int) -> bool:
    """``known_before``: items the feed had at its previous successful poll (0: first poll, never an
    anomaly); ``total``: items now; ``unseen``: items now whose GUID we have never stored for this feed."""
    if known_before < MIN_ITEMS or total < MIN_ITEMS:
        return False
    return unseen >= MIN_ITEMS and unseen / total >= UNSEEN_SHARE
