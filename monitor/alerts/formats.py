"""Receiver formats: the same event rendered as generic JSON, a Slack message or a Discord embed. Pure.

Generic JSON is the documented payload itself. Slack and Discord get a readable message built from it,
cut to their documented size limits (Slack: 3,000 characters per text block; Discord: embed description
4,096, field value 1,024, title 256).

Everything in a payload that came from a feed or a seed file (titles, sentences, facts, URLs) is untrusted
text: a title like ``@everyone <!channel> <https://phish.example/login|Click to verify>`` must reach the
channel as those characters, not as a mass mention or a disguised link. Slack: ``&``, ``<`` and ``>`` become
``&amp;``, ``&lt;``, ``&gt;`` in every mrkdwn text and in the top-level ``text`` (Slack's "Escaping text";
the header is a ``plain_text`` object, which Slack never parses for links or mentions, so it stays as it
is). Discord: ``allowed_mentions: {"parse": []}`` (no mention in the message may ping anyone), and every
markdown character in content, description and field values is backslash-escaped, which also breaks
masked links (``[text](url)``); ``@everyone``/``@here`` get a zero-width space. Link targets we build
ourselves are only ever ``http(s)`` URLs.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from monitor.alerts.payload import summary_line

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_DISCORD_MARKDOWN = re.compile(r"([\\*_~`|<>\[\]()])")
_DISCORD_LINE_START = re.compile(r"(?m)^(\s*)([#>-])")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    # Never leave half an entity (``&am``) of escaped Slack text before the ellipsis.
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "\u2026"


def slack_escape(text: object) -> str:
    """Slack's three control characters as entities: the text shows as sent, never as a link or mention."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def discord_escape(text: object) -> str:
    """Markdown characters backslash-escaped and mass mentions broken by a zero-width space."""
    escaped = _DISCORD_LINE_START.sub(r"\1\\\2", _DISCORD_MARKDOWN.sub(r"\\\1", str(text)))
    return _MASS_MENTION.sub("@\u200b\\1", escaped)


def _http_url(url: object) -> str | None:
    """An http(s) URL safe inside ``<url|label>`` (Slack) or as a link target; None for anything else."""
    if not isinstance(url, str) or not re.match(r"(?i)^https?://[^\s]+$", url):
        return None
    return quote(url, safe="/:?#@!$&'*+,;=%-._~[]")  # |, <, >, quotes, spaces and controls percent-encoded


def _facts_lines(facts: dict[str, list[str]], update: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    labels = (("numbers", "Numbers"), ("names", "Names"), ("quotes", "Quotes"))
    lines = [(label, "; ".join(facts[key])) for key, label in labels if facts.get(key)]
    # A changed value first: a desk following a death toll wants exactly this line.
    changed = [f"{v['old']} \u2192 {v['new']}" for c in (update or {}).get("changed", []) for v in c["values"]]
    return [("Changed", "; ".join(changed)), *lines] if changed else lines


def slack(payload: dict[str, Any]) -> dict[str, Any]:
    story = payload.get("story") or {}
    update = payload.get("update") or {}
    added = [slack_escape(s) for s in update.get("added", [])]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(summary_line(payload), 150)}},
    ]
    if added:
        bullets = "\n".join(f"\u2022 {s}" for s in added[:8])
        more = f"\n_\u2026and {len(added) - 8} more_" if len(added) > 8 else ""
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(bullets + more, 3000)}})
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{label}:* {slack_escape(value)}", 2000)}
        for label, value in _facts_lines(update.get("facts", {}), update)
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})
    link = _http_url((update.get("article") or {}).get("url") or story.get("url"))
    context = slack_escape(
        f"story `{story.get('id')}` \u00b7 event {payload.get('sequence')} \u00b7 {payload.get('type')}"
    )
    if link:
        context += f" \u00b7 <{slack_escape(link)}|source>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(context, 2000)}]})
    return {"text": slack_escape(summary_line(payload)), "blocks": blocks}


def discord(payload: dict[str, Any]) -> dict[str, Any]:
    story = payload.get("story") or {}
    update = payload.get("update") or {}
    added = [discord_escape(s) for s in update.get("added", [])]
    embed: dict[str, Any] = {
        # Embed titles render no markdown links; mentions in embeds never ping. Mass mentions are broken
        # anyway, so a copy-paste of the text cannot ping either.
        "title": _cut(_MASS_MENTION.sub("@\u200b\\1", str(story.get("title") or payload.get("type"))), 256),
        "description": _cut("\n".join(f"\u2022 {s}" for s in added) or discord_escape(summary_line(payload)), 4096),
        "fields": [
            {"name": label, "value": _cut(discord_escape(value), 1024), "inline": False}
            for label, value in _facts_lines(update.get("facts", {}), update)
        ],
        "footer": {
            "text": f"{payload.get('type')} \u00b7 story {story.get('id')} \u00b7 event {payload.get('sequence')}"
        },
    }
    url = _http_url((update.get("article") or {}).get("url") or story.get("url"))
    if url:
        embed["url"] = url
    if payload.get("created_at"):
        embed["timestamp"] = payload["created_at"]
    return {
        "content": _cut(discord_escape(summary_line(payload)), 2000),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},  # nothing in this message may ping a user, a role or everyone
    }


def render(fmt: str, payload: dict[str, Any]) -> dict[str, Any]:
    if fmt == "slack":
        return slack(payload)
    if fmt == "discord":
        return discord(payload)
    return payload
