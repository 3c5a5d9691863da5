"""Hostile receivers, titles and configs on the delivery side (issue 14): a receiver's answer is read only
up to a few KiB and every delivery has a total deadline; chat formats escape what a feed sends; a story's
event never waits on a dead predecessor; bad secrets stop at config load. Real receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from monitor.config import parse_config, public_listen_warning
from monitor.errors import ConfigError, MonitorError
from monitor.service import http as http_listener
from monitor.store.db import Database
from tests.conftest import SECRET, run_cli

# --- item 16: secrets validated at load; a public listener is warned about ------------------------------


@pytest.mark.parametrize("secret", ["whsec_not base64!!", "whsec_", "whsec_abc"])
def test_a_malformed_whsec_secret_is_refused_at_load_without_echoing_it(tmp_path: Path, secret: str) -> None:
    raw = {"webhooks": [{"name": "desk", "url": "http://127.0.0.1:9/hook", "secret": secret}]}
    with pytest.raises(ConfigError) as err:
        parse_config(raw, base=tmp_path)
    (problem,) = err.value.problems
    assert problem.startswith("webhooks[0].secret: ")
    if secret != "whsec_":
        assert secret[len("whsec_") :] not in problem  # the secret is never echoed


def test_a_malformed_secret_from_the_environment_is_refused_too(tmp_path: Path) -> None:
    raw = {"webhooks": [{"name": "desk", "url": "http://127.0.0.1:9/hook", "secret": "env:HOOK_KEY"}]}
    with pytest.raises(ConfigError, match=r"webhooks\[0\]\.secret: starts with 'whsec_'"):
        parse_config(raw, base=tmp_path, env={"HOOK_KEY": "whsec_%%%%"})
    good = parse_config(raw, base=tmp_path, env={"HOOK_KEY": SECRET})
    assert good.webhooks[0].secret == SECRET
    plain = parse_config(raw, base=tmp_path, env={"HOOK_KEY": "a plain shared secret"})  # raw key bytes
    assert plain.webhooks[0].secret == "a plain shared secret"


def test_check_config_refuses_a_bad_secret_with_its_path_and_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[monitor]\ndatabase = "sqlite:///m.db"\n\n'
        '[[webhooks]]\nname = "desk"\nurl = "http://127.0.0.1:9/hook"\nsecret = "whsec_not base64!!"\n'
    )
    for command in ("check-config", "once"):
        result = run_cli(command, "--config", str(config))
        assert result.returncode == 2, (command, result.stderr)  # a config error, not a crash
        assert "webhooks[0].secret" in result.stderr
        assert "not base64!!" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("listen", "public"),
    [
        ("127.0.0.1:8080", False),
        ("127.8.9.1:8080", False),
        ("[::1]:8080", False),
        ("localhost:8080", False),
        ("0.0.0.0:8080", True),
        ("[::]:8080", True),
        ("192.168.1.10:8080", True),
        ("news.example.org:8080", True),
    ],
)
def test_a_non_loopback_listen_address_is_called_public(listen: str, public: bool) -> None:
    warning = public_listen_warning(listen)
    assert (warning is not None) == public
    if warning:
        assert "monitor.http_listen" in warning and "reverse proxy" in warning


def test_check_config_warns_about_a_public_listener(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[monitor]\ndatabase = "sqlite:///m.db"\nhttp_listen = "0.0.0.0:8080"\n')
    result = run_cli("check-config", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "warning: monitor.http_listen: '0.0.0.0:8080' is not a loopback address" in result.stderr
    config.write_text('[monitor]\ndatabase = "sqlite:///m.db"\nhttp_listen = "127.0.0.1:8080"\n')
    result = run_cli("check-config", "--config", str(config))
    assert result.returncode == 0 and "warning" not in result.stderr


def test_the_listener_warns_at_start_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # 192.0.2.1 (TEST-NET-1) is no local address: the bind fails, so the test never listens publicly,
    # and the warning must already be in the log by then.
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    with caplog.at_level(logging.WARNING, "monitor.http"), pytest.raises(MonitorError):
        asyncio.run(http_listener.start("192.0.2.1:8080", db))
    db.close()
    assert any("http.public" in r.getMessage() and "192.0.2.1:8080" in r.getMessage() for r in caplog.records)
