"""Receiver formats: the same event rendered as generic JSON, a Slack message or a Discord embed. Pure.

Generic JSON is the documented payload itself. Slack and Discord get a readable message built from it,
cut to their documented size limits (Slack: 3,000 characters per text block; Discord: embed description
4,096, field value 1,024, title 256).
"""

from __future__ import annotations

from typing import Any

from monitor.alerts.payload import summary_line


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _facts_lines(facts: dict[str, list[str]], update: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    labels = (("numbers", "Numbers"), ("names", "Names"), ("quotes", "Quotes"))
    lines = [(label, "; ".join(facts[key])) for key, label in labels if facts.get(key)]
    # A changed value first: a desk following a death toll wants exactly this line (issue 12).
    changed = [f"{v['old']} \u2192 {v['new']}" for c in (update or {}).get("changed", []) for v in c["values"]]
    return [("Changed", "; ".join(changed)), *lines] if changed else lines


def slack(payload: dict[str, Any]) -> dict[str, Any]:
    story = payload.get("story") or {}
    update = payload.get("update") or {}
    added = update.get("added", [])
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(summary_line(payload), 150)}},
    ]
    if added:
        bullets = "\n".join(f"\u2022 {s}" for s in added[:8])
        more = f"\n_\u2026and {len(added) - 8} more_" if len(added) > 8 else ""
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(bullets + more, 3000)}})
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{label}:* {value}", 2000)}
        for label, value in _facts_lines(update.get("facts", {}), update)
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})
    link = (update.get("article") or {}).get("url") or story.get("url")
    context = f"story `{story.get('id')}` \u00b7 event {payload.get('sequence')} \u00b7 {payload.get('type')}"
    if link:
        context += f" \u00b7 <{link}|source>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(context, 2000)}]})
    return {"text": summary_line(payload), "blocks": blocks}


def discord(payload: dict[str, Any]) -> dict[str, Any]:
    story = payload.get("story") or {}
    update = payload.get("update") or {}
    added = update.get("added", [])
    embed: dict[str, Any] = {
        "title": _cut(str(story.get("title") or payload.get("type")), 256),
        "description": _cut("\n".join(f"\u2022 {s}" for s in added) or summary_line(payload), 4096),
        "fields": [
            {"name": label, "value": _cut(value, 1024), "inline": False}
            for label, value in _facts_lines(update.get("facts", {}), update)
        ],
        "footer": {
            "text": f"{payload.get('type')} \u00b7 story {story.get('id')} \u00b7 event {payload.get('sequence')}"
        },
    }
    url = (update.get("article") or {}).get("url") or story.get("url")
    if url:
        embed["url"] = url
    if payload.get("created_at"):
        embed["timestamp"] = payload["created_at"]
    return {"content": _cut(summary_line(payload), 2000), "embeds": [embed]}


def render(fmt: str, payload: dict[str, Any]) -> dict[str, Any]:
    if fmt == "slack":
        return slack(payload)
    if fmt == "discord":
        return discord(payload)
    return payload
