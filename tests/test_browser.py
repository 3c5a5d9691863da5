"""The pages in a real browser (issue 8): headless Chromium from Debian loads the seed scenario's story.

Chromium renders the page (``--dump-dom``, the DOM after parsing, styles and any script) and logs every
console message to stderr (``--enable-logging=stderr``): a script error or a Content-Security-Policy
violation (an inline style, say) shows up there as a ``CONSOLE`` line, so "no such lines" means none.
Skipped, with the reason, where Chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_web import Built, app_for, built, serving

__all__ = ["built"]  # the fixture, shared with the web tests

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (Debian: apt-get install chromium)"
)
# What we ask of Chromium: no sandbox (root in containers), no GPU, and none of its own network traffic.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
)


@dataclass(frozen=True)
class Rendered:
    dom: str
    console: list[str]  # every console message the page produced (errors, CSP violations, logs)


def render(url: str, profile: Path) -> Rendered:
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return Rendered(result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line])


@pytest.fixture
def site(built: Built) -> Iterator[tuple[str, Built]]:
    with serving(app_for(built)) as url:
        yield url, built


def test_the_console_check_catches_a_script_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><script>throw new Error("boom")</script></body></html>', encoding="utf-8")
    page = render(bad.as_uri(), tmp_path / "profile")
    assert any("Uncaught Error: boom" in line for line in page.console)


def test_timeline_in_chromium_highlights_added_sentences(site: tuple[str, Built], tmp_path: Path) -> None:
    url, b = site
    page = render(f"{url}stories/{b.story_id}", tmp_path / "profile")
    assert page.console == []
    marked = re.findall(r'<mark class="added">(.*?)</mark>', page.dom)
    v1, v2 = page.dom.split('id="v1"')[1].split('id="v2"')
    assert any(s.startswith("At least 34,000 people") for s in marked)
    assert any("Staffan de Mistura" in s for s in re.findall(r'<mark class="added">(.*?)</mark>', v2))
    flash = "The last group of rebels and their families holed up in a small enclave"
    assert f'<mark class="added">{flash}' in v1 and f'<span class="known">{flash}' in v2
    assert "<script" not in page.dom


def test_story_list_and_feeds_in_chromium(site: tuple[str, Built], tmp_path: Path) -> None:
    url, b = site
    listing = render(url, tmp_path / "profile")
    assert listing.console == []
    assert f'href="/stories/{b.story_id}"' in listing.dom
    feeds = render(url + "feeds", tmp_path / "profile")
    assert feeds.console == [] and "<h1>Feeds</h1>" in feeds.dom
