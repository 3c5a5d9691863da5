"""The acceptance scenario from outside: a config in the documented keys and unrelated feed items (tests of
``news-monitor once`` end to end)."""

from __future__ import annotations

from pathlib import Path

from tests.servers import Receiver

UNRELATED = [
    {
        "title": "Stocks edge higher as investors weigh central bank comments",
        "link": "http://news.test/markets-1",
        "description": "<p>Shares rose modestly on Tuesday in New York as traders weighed comments from central "
        "bank officials about the path of interest rates.</p><p>The benchmark index gained 0.4 percent.</p>",
    },
    {
        "title": "Storm brings heavy snow to the northern plains",
        "link": "http://news.test/weather-1",
        "description": "<p>Forecasters warned of up to 40 centimetres of snow across the northern plains, with "
        "travel expected to be difficult through Friday.</p>",
    },
]


def write_config(tmp: Path, feeds: dict[str, str], receiver: Receiver, **monitor: str) -> Path:
    seeds = tmp / "seeds"
    seeds.mkdir(exist_ok=True)
    lines = ["[monitor]", 'database = "sqlite:///monitor.db"', 'seeds_dir = "seeds"', 'poll_interval = "10m"']
    lines += [f'{k} = "{v}"' for k, v in monitor.items()]
    for name, url in feeds.items():
        lines += ["", "[[feeds]]", f'name = "{name}"', f'url = "{url}"', 'interval = "5m"']
    lines += [
        "",
        "[[webhooks]]",
        'name = "desk"',
        f'url = "{receiver.url}"',
        'format = "json"',
        'secret = "env:DESK_WEBHOOK_SECRET"',
    ]
    lines += [
        "",
        "[[watchlists]]",
        'name = "syria"',
        'keywords = ["Aleppo", "Idlib"]',
        "regex = []",
        'webhooks = ["desk"]',
    ]
    path = tmp / "monitor.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
