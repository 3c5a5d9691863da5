"""Config: validated on load, every problem with its path; the example configs stay valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config, parse_config, parse_duration
from monitor.errors import ConfigError
from tests.support import REPO


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("500ms", 0.5),
        (90, 90),
        ("2.5m", 150),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "ten minutes", "5x", "-5m", 0, True, "5m garbage", None])
def test_bad_durations_say_what_they_got(bad: object) -> None:
    with pytest.raises(ValueError, match="must be"):
        parse_duration(bad)


def test_example_configs_parse(tmp_path: Path) -> None:
    default = load_config(REPO / "config" / "monitor.toml")
    assert default.monitor.seeds_dir == (REPO / "seeds").resolve()
    assert default.monitor.database == f"sqlite:///{(REPO / 'var' / 'news-monitor.db').resolve()}"
    assert default.watchlists and not default.webhooks
    ref = load_config(REPO / "config" / "reference.toml", env={"DESK_WEBHOOK_SECRET": "whsec_YWJj"})
    assert ref.webhooks[0].secret == "whsec_YWJj"
    assert ref.feeds[0].interval == 300
    assert ref.watchlists[0].feeds == ("world", "seeds")


def test_reference_documents_every_monitor_key() -> None:
    from monitor.config import MONITOR_KEYS

    text = (REPO / "config" / "reference.toml").read_text()
    readme = (REPO / "README.md").read_text()
    for key in MONITOR_KEYS:
        assert f"\n{key} = " in text, f"config/reference.toml does not document monitor.{key}"
        assert f"`monitor.{key}`" in readme, f"README config table does not document monitor.{key}"


def problems(raw: dict[str, object], env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, base=Path("/tmp"), env=env or {})
    return info.value.problems


def test_every_monitor_key_is_validated_with_its_path() -> None:
    """The [monitor] schema is MonitorSettings' fields: a key declared there is read and checked, with no
    second list to forget it in."""
    from monitor.config import MONITOR_KEYS

    for key in MONITOR_KEYS:
        found = problems({"monitor": {key: ["not", "a", "setting"]}})
        assert len(found) == 1 and found[0].startswith(f"monitor.{key}: must be"), (key, found)


def test_monitor_problems_come_in_the_order_of_the_keys() -> None:
    found = problems({"monitor": {"http_listen": "nope", "parse_processes": -1, "max_attempts": 0, "jitter": 1}})
    assert [p.split(":")[0] for p in found] == [
        "monitor.jitter",
        "monitor.max_attempts",
        "monitor.parse_processes",
        "monitor.http_listen",
    ]


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    found = problems(
        {
            "monitor": {"poll_interval": "soon", "databse": "x", "jitter": 2},
            "feeds": [{"name": "a", "url": "ftp://x"}, {"name": "a", "url": "http://ok", "intervall": "5m"}],
            "webhooks": [{"name": "desk", "url": "http://h", "format": "teams", "secret": "env:NOPE"}],
            "watchlists": [{"name": "w", "keywords": ["x"], "regex": ["("], "webhooks": ["desk", "ghost"]}],
        }
    )
    expected = [
        "monitor.databse: unknown key; did you mean 'database'?",
        "monitor.poll_interval: must be a duration",
        "monitor.jitter: must be between 0 and 0.5",
        "feeds[0].url: must be an http(s) URL, got: 'ftp://x'",
        "feeds[1].name: duplicate name 'a'",
        "feeds[1].intervall: unknown key; did you mean 'interval'?",
        "webhooks[0].format: must be one of json, slack, discord, apprise, got: 'teams'",
        "webhooks[0].secret: environment variable NOPE is not set",
        "watchlists[0].regex[0]: invalid regular expression '('",
        "watchlists[0].webhooks[1]: no webhook named 'ghost'",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in found), f"missing {text!r} in {found}"
    assert len(found) == len(expected)


def test_types_are_checked() -> None:
    found = problems({"feeds": [{"name": "a", "url": 5}], "watchlists": [{"name": "w", "keywords": "Aleppo"}]})
    assert "feeds[0].url: must be a str, got: 5" in found
    assert "watchlists[0].keywords: must be a list, got: 'Aleppo'" in found


def test_unreadable_config_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[monitor\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    cfg = parse_config({"monitor": {"database": "sqlite:///db/x.db", "seeds_dir": "s"}}, base=tmp_path)
    assert cfg.monitor.database == f"sqlite:///{tmp_path / 'db' / 'x.db'}"
    assert cfg.monitor.seeds_dir == tmp_path / "s"
    absolute = parse_config({"monitor": {"database": "sqlite:////abs/x.db"}}, base=tmp_path)
    assert absolute.monitor.database == "sqlite:////abs/x.db"
    pg = parse_config({"monitor": {"database": "postgresql+psycopg://u:p@h/db"}}, base=tmp_path)
    assert pg.monitor.database == "postgresql+psycopg://u:p@h/db"


def test_secrets_stay_out_of_reprs() -> None:
    cfg = parse_config(
        {"webhooks": [{"name": "d", "url": "http://h", "secret": "env:S"}]},
        base=Path("/tmp"),
        env={"S": "topsecret"},
    )
    assert cfg.webhooks[0].secret == "topsecret"
    assert "topsecret" not in repr(cfg)
