"""Standard Webhooks signatures (https://www.standardwebhooks.com, spec v1): pure, stdlib only.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature is base64 of its
HMAC-SHA256 under the secret, sent as ``webhook-signature: v1,<base64>``. Secrets use the spec's
``whsec_<base64>`` form; any other string is taken as raw key bytes (UTF-8), for receivers that were set up
with a plain shared secret. The secret is never logged or put in an error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    if secret.startswith(PREFIX):
        try:
            return base64.b64decode(secret[len(PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as e:
            raise ValueError("webhook secret starts with 'whsec_' but the rest is not valid base64") from e
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(secret: str | None, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """``webhook-id`` and ``webhook-timestamp`` always (receivers de-duplicate by id), plus the signature."""
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if secret:
        headers["webhook-signature"] = sign(secret, msg_id, timestamp, body)
    return headers
