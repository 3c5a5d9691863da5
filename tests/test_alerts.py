"""Alerts: Standard Webhooks signatures (checked by the independent `standardwebhooks` package), receiver
formats, and how one delivery attempt classifies the receiver's answer (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from monitor.alerts.delivery import Outcome, post_event
from monitor.alerts.formats import discord, slack
from monitor.alerts.signing import sign, signature_headers
from tests.support import SECRET

PAYLOAD: dict[str, Any] = {
    "id": "evt_1",
    "type": "story.updated",
    "created_at": "2026-11-25T00:00:00Z",
    "sequence": 2,
    "story": {"id": "st_1", "title": "Aleppo evacuation ends", "url": "http://x.test/a", "status": "open"},
    "update": {
        "seq": 2,
        "article": {"url": "http://x.test/b"},
        "added": ["S1.", "S2."],
        "facts": {"numbers": ["34,000 people"], "quotes": [], "names": ["Idlib"]},
    },
}


def test_signature_verifies_with_the_reference_implementation() -> None:
    body = json.dumps(PAYLOAD).encode()
    # The spec's own library checks the timestamp against its clock (5 minutes of tolerance).
    now = int(time.time())
    headers = signature_headers(SECRET, "evt_1", now, body)
    assert Webhook(SECRET).verify(body, headers) == PAYLOAD
    tampered = body.replace(b"Aleppo", b"Aleppx")
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, headers)


def test_signature_matches_the_spec_example() -> None:
    # Test vector from the Standard Webhooks specification (msg_p5jXN8AQM9LWM0D4loKWxJek, 1614265330).
    body = b'{"test": 2432232314}'
    assert (
        sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_no_secret_no_signature_but_still_an_id() -> None:
    headers = signature_headers(None, "evt_1", 1, b"{}")
    assert headers == {"webhook-id": "evt_1", "webhook-timestamp": "1"}


def test_slack_and_discord_messages() -> None:
    s = slack(PAYLOAD)
    assert s["text"].startswith("Update 2 to")
    assert any("34,000 people" in json.dumps(b) for b in s["blocks"])
    d = discord(PAYLOAD)
    embed = d["embeds"][0]
    assert embed["title"] == "Aleppo evacuation ends" and embed["url"] == "http://x.test/b"
    assert "\u2022 S1." in embed["description"]
    long = {**PAYLOAD, "update": {**PAYLOAD["update"], "added": ["x" * 500] * 20}}
    assert len(discord(long)["embeds"][0]["description"]) <= 4096


def attempt(
    status: int,
    headers: dict[str, str] | None = None,
    raise_: Exception | None = None,
    *,
    follow_redirects: bool = False,
    seen: list[httpx.Request] | None = None,
) -> Outcome:
    """One ``post_event`` against a receiver answering ``status``; ``seen`` collects the requests it got.
    ``follow_redirects``: the client's setting (the daemon's shared client follows them, for feeds)."""
    seen = [] if seen is None else seen

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if raise_:
            raise raise_
        return httpx.Response(status, headers=headers or {}, text="body")

    async def go() -> Outcome:
        transport = httpx.MockTransport(handler)
        async with httpx.AsyncClient(transport=transport, follow_redirects=follow_redirects) as client:
            return await post_event(
                client,
                url="http://hook.test/x",
                fmt="json",
                secret=SECRET,
                event_id="evt_1",
                payload=PAYLOAD,
                timeout=5,
                now=1_700_000_000,
            )

    outcome = asyncio.run(go())
    if seen:
        assert seen[0].headers["webhook-id"] == "evt_1"
        assert seen[0].headers["webhook-signature"].startswith("v1,")
    return outcome


@pytest.mark.parametrize(
    ("status", "delivered", "permanent", "gone"),
    [
        (200, True, False, False),
        (204, True, False, False),
        (500, False, False, False),
        (503, False, False, False),
        (408, False, False, False),
        (429, False, False, False),
        (400, False, True, False),
        (404, False, True, False),
        (410, False, True, True),
    ],
)
def test_answers_are_classified(status: int, delivered: bool, permanent: bool, gone: bool) -> None:
    outcome = attempt(status)
    assert (outcome.delivered, outcome.permanent, outcome.gone) == (delivered, permanent, gone)
    assert outcome.status == status


def test_retry_after_is_read() -> None:
    assert attempt(503, {"Retry-After": "120"}).retry_after == 120.0
    assert attempt(429, {"Retry-After": "soon"}).retry_after is None
    # An HTTP-date counts from the attempt's ``now`` (1_700_000_000 = 2023-11-14 22:13:20 UTC), not the clock.
    assert attempt(503, {"Retry-After": "Tue, 14 Nov 2023 22:15:20 GMT"}).retry_after == 120.0


def test_network_errors_are_retryable_values() -> None:
    outcome = attempt(0, raise_=httpx.ConnectError("refused"))
    assert not outcome.delivered and not outcome.permanent and "ConnectError" in str(outcome.error)


def test_a_redirect_is_not_followed_and_says_where_it_pointed() -> None:
    """The production client follows redirects (feeds need it); a delivery must not: a receiver's Location
    could send the signed event to an internal host the operator never configured."""
    seen: list[httpx.Request] = []
    where = {"Location": "http://169.254.169.254/latest"}
    outcome = attempt(307, where, follow_redirects=True, seen=seen)
    assert [str(r.url) for r in seen] == ["http://hook.test/x"]  # the redirect target was never contacted
    assert not outcome.delivered and outcome.permanent and not outcome.gone and outcome.status == 307
    assert "169.254.169.254" in (outcome.error or "") and "not followed" in (outcome.error or "")
