"""One delivery attempt: render, sign and POST an event to a webhook; classify the answer. No retries here
(the outbox decides when to try again, see ``service.delivering``).

Classification: 2xx delivered; 408, 429 and 5xx and network errors retry (honouring
``Retry-After``); any other 4xx is permanent (the receiver will never take this body), 410 Gone also says the
endpoint itself is gone. A redirect is not followed and is permanent too: the address is the operator's
choice, and following a receiver's ``Location`` would hand the signed event to any host it names (an
internal one included, past the address checks feeds get); the error says where it pointed.

A receiver is not trusted with our memory or our time: its answer's body is only an error
message to us, so at most ``MAX_ANSWER_BYTES`` of it are read (then the connection is closed, never
drained), and the whole attempt (connect, send, status and headers, that body) has a total ``deadline``.
httpx's ``timeout`` bounds each wait for the socket, so a receiver trickling a byte every few seconds never
trips it; the deadline does, and the attempt is then a failure like any other (retried with backoff).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from monitor.alerts.formats import render
from monitor.alerts.signing import signature_headers
from monitor.core.retry_after import retry_after_seconds

RETRYABLE_4XX = frozenset({408, 425, 429})
MAX_ANSWER_BYTES = 4096  # of a receiver's answer body: enough for an error message
ANSWER_READ_SECONDS = 2.0  # at most this (and never past the deadline) waiting for that body
DEFAULT_DEADLINE = 30.0


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
    deadline: float = DEFAULT_DEADLINE,
) -> Outcome:
    """POST one event; never raises for network or HTTP failures (they are the Outcome)."""
    body = encode_body(fmt, payload)
    headers = {
        "Content-Type": "application/json",
        "Accept-Encoding": "identity",  # the answer is read raw (and only its first bytes)
        **signature_headers(secret, event_id, int(now), body),
    }
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    request = client.build_request("POST", url, content=body, headers=headers, timeout=timeout)
    try:
        async with asyncio.timeout(deadline):
            resp = await client.send(request, stream=True, follow_redirects=False)
    except TimeoutError:
        return Outcome(False, None, f"no answer within the {deadline:g}s delivery deadline")
    except httpx.HTTPError as e:
        return Outcome(False, None, f"{type(e).__name__}: {e or 'no detail'}")
    try:
        status = resp.status_code
        if 200 <= status < 300:  # the status is the answer; the body is read (a little) to reuse the connection
            await _read_answer(resp, end - loop.time())
            return Outcome(True, status)
        answer = await _read_answer(resp, end - loop.time())
    finally:
        await resp.aclose()  # an unread rest closes the connection instead of being drained
    # Shown in logs and `deliveries`: a receiver's newlines or escape codes must not forge log lines.
    shown = "".join(c if c.isprintable() else " " for c in answer[:200])
    error = f"HTTP {status} {resp.reason_phrase}: {shown}"
    if resp.is_redirect:
        where = "".join(c if c.isprintable() else " " for c in resp.headers.get("Location", "")[:200])
        error = f"HTTP {status} {resp.reason_phrase} to {where!r}: redirects are not followed; point the webhook there"
    if status >= 500 or status in RETRYABLE_4XX:
        wait = retry_after_seconds(resp.headers.get("Retry-After"), datetime.fromtimestamp(now, UTC))
        return Outcome(False, status, error, wait)
    return Outcome(False, status, error, permanent=True, gone=status == 410)


async def _read_answer(resp: httpx.Response, time_left: float) -> str:
    """Up to ``MAX_ANSWER_BYTES`` of the body, for at most ``ANSWER_READ_SECONDS`` (and ``time_left``)."""
    if resp.is_stream_consumed:  # already read whole by an in-process transport (httpx.MockTransport)
        return resp.content[:MAX_ANSWER_BYTES].decode("utf-8", "replace")
    parts: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(max(0.0, min(ANSWER_READ_SECONDS, time_left))):
            async for chunk in resp.aiter_raw():
                parts.append(chunk[: MAX_ANSWER_BYTES - size])
                size += len(parts[-1])
                if size >= MAX_ANSWER_BYTES:
                    break
    except (TimeoutError, httpx.HTTPError):
        pass  # what arrived is enough for an error message; the status decides the outcome
    return b"".join(parts).decode("utf-8", "replace")
