"""Credentials out of everything meant for people: one function for URLs, one for free text.

Every place that shows a URL or an error (config errors, the CLI, ``status``, logs, web pages) passes it
through here, so a new place cannot forget one kind of secret. What counts as a credential:

* the password in a URL's userinfo (``postgresql://u:X@h/db``, ``https://u:X@feeds/``; also an empty user,
  ``postgresql://:X@h/db``): the user name stays, it says which account;
* the value of a query parameter whose name says it is secret (``?password=X``, ``token``, ``api_key``,
  ``sig``, ``signature``, ``secret``, ``auth``, ``session`` ...): libpq reads ``password`` from the query
  string, presigned URLs carry ``sig``/``signature``;
* in free text, ``password=X``-style pairs outside URLs (libpq keyword strings, some drivers' messages).

What it does not do: recognise a secret by its look (a token in a URL's path, as in Apprise URLs, is not
found; the config never echoes those URLs at all).
"""

from __future__ import annotations

import re

HIDDEN = "***"

# A query parameter is secret if its name contains one of these (case-insensitive).
_SECRET_PARAM = re.compile(
    r"pass|pwd|token|secret|key|sig|auth|credential|session|cookie|private|otp|jwt|bearer", re.IGNORECASE
)
_URL = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>`]+""")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@]*)@")
_QUERY_PAIR = re.compile(r"([?&;])([^=&#;]*)=([^&#;]*)")
# password=X outside a URL (after a space, a quote or the start of the text); names kept narrow so that log
# context such as ``story_key=...`` stays readable.
_TEXT_PAIR = re.compile(
    r"""(?<![\w/?&])((?:password|passwd|pwd|secret|token|api_?key|access_token|client_secret|sig|signature)"""
    r"""\s*=\s*)(["']?)([^\s"'&,;]+)""",
    re.IGNORECASE,
)


def _userinfo(m: re.Match[str]) -> str:
    scheme, info = m.group(1), m.group(2)
    if ":" not in info:
        return m.group(0)
    user = info.split(":", 1)[0]
    return f"{scheme}{user}:{HIDDEN}@"


def _query(m: re.Match[str]) -> str:
    sep, name, value = m.groups()
    return f"{sep}{name}={HIDDEN}" if value and _SECRET_PARAM.search(name) else m.group(0)


def redact_url(url: str) -> str:
    """``url`` with the password of its userinfo and the values of secret query parameters hidden."""
    url = _USERINFO.sub(_userinfo, url, count=1)
    head, sep, fragment = url.partition("#")
    return _QUERY_PAIR.sub(_query, head) + sep + fragment


def redact_text(text: str) -> str:
    """Every URL in ``text`` redacted, and ``password=X``-style pairs outside URLs hidden."""
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    return _TEXT_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{HIDDEN}", text)
