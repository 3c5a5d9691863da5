"""One delivery attempt: render, sign and POST an event to a webhook; classify the answer. No retries here
(the outbox decides when to try again, see ``service.pipeline``).

Classification (issue 4): 2xx delivered; 408, 429 and 5xx and network errors retry (honouring
``Retry-After``); any other 4xx is permanent (the receiver will never take this body), 410 Gone also says the
endpoint itself is gone.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from monitor.alerts.formats import render
from monitor.alerts.signing import signature_headers

RETRYABLE_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None
    error: str | None = None
    retry_after: float | None = None
    permanent: bool = False
    gone: bool = False


def encode_body(fmt: str, payload: dict[str, Any]) -> bytes:
    return json.dumps(render(fmt, payload), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


async def post_event(
    client: httpx.AsyncClient,
    *,
    url: str,
    fmt: str,
    secret: str | None,
    event_id: str,
    payload: dict[str, Any],
    timeout: float,
    now: float,
) -> Outcome:
    """POST one event; never raises for network or HTTP failures (they are the Outcome)."""
    body = encode_body(fmt, payload)
    headers = {"Content-Type": "application/json", **signature_headers(secret, event_id, int(now), body)}
    try:
        resp = await client.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as e:
        return Outcome(False, None, f"{type(e).__name__}: {e or 'no detail'}")
    status = resp.status_code
    if 200 <= status < 300:
        return Outcome(True, status)
    error = f"HTTP {status} {resp.reason_phrase}: {resp.text[:200]}"
    if status >= 500 or status in RETRYABLE_4XX:
        return Outcome(False, status, error, _retry_after(resp.headers.get("Retry-After")))
    return Outcome(False, status, error, permanent=True, gone=status == 410)
