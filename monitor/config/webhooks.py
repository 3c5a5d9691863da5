"""``[[webhooks]]``: where alerts go, in which format, signed with which secret (read from the environment)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import fields
from functools import partial
from typing import Any

from monitor.config.durations import parse_duration
from monitor.config.feeds import http_url
from monitor.config.model import FORMATS, WebhookConfig
from monitor.config.problems import Problems, check, get, named_tables

WEBHOOK_KEYS = tuple(f.name for f in fields(WebhookConfig))


def read_webhooks(problems: Problems, raw: Any, env: Mapping[str, str]) -> list[WebhookConfig]:
    hooks = []
    for path, t in named_tables(problems, raw, "webhooks"):
        problems.unknown_keys(path, t, WEBHOOK_KEYS)
        url = get(problems, t, path, "url", str, required=True)
        fmt = get(problems, t, path, "format", str, "json")
        if url is not None and fmt != "apprise":
            check(problems, f"{path}.url", partial(http_url, url), None)
        elif url is not None and not re.match(r"^[a-z][a-z0-9+.-]*://", url):
            problems.add(f"{path}.url", "must be an Apprise URL (scheme://...)")  # never echo it: it holds tokens
        if fmt == "apprise" and "secret" in t:
            problems.add(f"{path}.secret", "format 'apprise' cannot sign requests; remove 'secret'")
        if fmt not in FORMATS:
            problems.add(f"{path}.format", f"must be one of {', '.join(FORMATS)}, got: {fmt!r}")
        secret = _secret(problems, t, path, env)
        timeout, deadline = _timeouts(problems, t, path)
        hooks.append(WebhookConfig(str(t.get("name")), str(url), str(fmt), secret, timeout, deadline))
    return hooks


def _secret(problems: Problems, t: Mapping[str, Any], path: str, env: Mapping[str, str]) -> str | None:
    secret = get(problems, t, path, "secret", str, None)
    if secret is not None:
        secret = check(problems, f"{path}.secret", partial(_resolve_secret, secret, env), None)
    if secret is not None:
        secret = check(problems, f"{path}.secret", partial(_check_secret, secret), None)
    return secret  # type: ignore[no-any-return]


def _timeouts(problems: Problems, t: Mapping[str, Any], path: str) -> tuple[float, float]:
    timeout = 10.0
    if "timeout" in t:
        timeout = check(problems, f"{path}.timeout", partial(parse_duration, t["timeout"]), 10.0)
    deadline = max(30.0, timeout)  # the default never cuts a request short of its own timeout
    if "deadline" in t:
        deadline = check(problems, f"{path}.deadline", partial(parse_duration, t["deadline"]), deadline)
        if deadline < timeout:
            problems.add(f"{path}.deadline", f"must be at least the timeout ({timeout:g}s), got: {t['deadline']!r}")
    return timeout, deadline


def _resolve_secret(value: str, env: Mapping[str, str]) -> str:
    if value.startswith("env:"):
        var = value[4:]
        if not var:
            raise ValueError("'env:' needs a variable name, e.g. 'env:DESK_WEBHOOK_SECRET'")
        if not env.get(var):
            raise ValueError(f"environment variable {var} is not set (or empty)")
        return env[var]
    return value


def _check_secret(value: str) -> str:
    """A ``whsec_`` secret must be the Standard Webhooks form (``whsec_`` + base64 of the key): caught here,
    not as a ``ValueError`` at the first delivery. The message never quotes the secret."""
    if value.startswith("whsec_"):
        try:
            key = base64.b64decode(value[len("whsec_") :], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("starts with 'whsec_' but the rest is not valid base64 (value not shown)") from None
        if not key:
            raise ValueError("'whsec_' must be followed by the base64 of the key (value not shown)")
    return value
