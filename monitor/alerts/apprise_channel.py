"""Apprise as a receiver format (``format = "apprise"``, ``url`` an Apprise URL such as ``tgram://...``,
``mailto://...`` or ``json://host/path``): reaches Apprise's many services from the same durable outbox, so
retries, ordering and dead letters work as for webhooks. Optional: ``pip install 'news-monitor[apprise]'``.

Apprise reports only success or failure, so every failure is retried (up to ``max_attempts``). Apprise URLs
carry tokens: they are never logged.
"""

from __future__ import annotations

from typing import Any

from monitor.alerts.delivery import Outcome
from monitor.alerts.payload import summary_line

MISSING = "format 'apprise' needs the optional extra: pip install 'news-monitor[apprise]'"


def message_body(payload: dict[str, Any]) -> str:
    update = payload.get("update") or {}
    lines = [f"- {s}" for s in update.get("added", [])[:10]]
    for key in ("numbers", "names", "quotes"):
        values = (update.get("facts") or {}).get(key) or []
        if values:
            lines.append(f"{key}: {'; '.join(values[:8])}")
    link = (update.get("article") or {}).get("url") or (payload.get("story") or {}).get("url")
    if link:
        lines.append(link)
    if payload.get("detail"):
        lines.append(", ".join(f"{k}: {v}" for k, v in payload["detail"].items()))
    return "\n".join(lines) or summary_line(payload)


async def notify(url: str, payload: dict[str, Any]) -> Outcome:
    try:
        import apprise
    except ImportError:
        return Outcome(False, None, MISSING, permanent=True)
    client = apprise.Apprise()
    if not client.add(url):
        return Outcome(False, None, "Apprise does not understand this URL (check its scheme)", permanent=True)
    ok = await client.async_notify(title=summary_line(payload), body=message_body(payload))
    return Outcome(True, None) if ok else Outcome(False, None, "Apprise reported a failed notification")
