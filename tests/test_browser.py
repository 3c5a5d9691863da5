"""The pages in a real browser: headless Chromium from Debian loads the seed scenario's story.

Chromium renders the page (``--dump-dom``, the DOM after parsing, styles and any script) and logs every
console message to stderr (``--enable-logging=stderr``). The tests assert on the page's own errors: an
uncaught exception or a Content-Security-Policy violation (an inline style, say) in that console, and every
request the page made answered without an error status (recorded by the server, since headless Chromium does
not log failed loads there). They do not assert an empty console: Chromium adds advisories of its own
("[Intervention] Slow network is detected...", under load) that say nothing about the page.
Skipped, with the reason, where Chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.web import Built, app_for, serving

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


# What a page's own errors look like in Chromium's console; anything else there (logs, the browser's
# "[Intervention]" and "[Deprecation]" advisories) is not a fault of the page.
PAGE_ERRORS = re.compile(r"Uncaught |Content[- ]Security[- ]Policy|Failed to load resource|net::ERR_")


@dataclass(frozen=True)
class Rendered:
    dom: str
    console: list[str]  # every console message: the page's errors, its logs and Chromium's advisories

    @property
    def errors(self) -> list[str]:
        return [line for line in self.console if PAGE_ERRORS.search(line)]


@dataclass
class Requests:
    """ASGI middleware that records every request the browser makes, with its status."""

    app: Any
    seen: list[tuple[str, int]] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def recording(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((scope["path"], message["status"]))
            await send(message)

        return await self.app(scope, receive, recording)

    @property
    def failed(self) -> list[tuple[str, int]]:
        return [(path, status) for path, status in self.seen if status >= 400]


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
def site(built: Built) -> Iterator[tuple[str, Built, Requests]]:
    requests = Requests(app_for(built))
    with serving(requests) as url:
        yield url, built, requests


def test_the_error_check_catches_a_script_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><script>throw new Error("boom")</script></body></html>', encoding="utf-8")
    page = render(bad.as_uri(), tmp_path / "profile")
    assert any("Uncaught Error: boom" in line for line in page.errors)


def test_the_error_check_catches_a_csp_violation_and_ignores_advisories(tmp_path: Path) -> None:
    page_ = tmp_path / "csp.html"
    page_.write_text(
        '<html><head><meta http-equiv="Content-Security-Policy" content="style-src \'self\'; '
        'script-src \'unsafe-inline\'"></head><body><p style="color: red">x</p>'
        '<script>console.warn("[Intervention] Slow network is detected. Fallback font will be used.")</script>'
        "</body></html>",
        encoding="utf-8",
    )
    page = render(page_.as_uri(), tmp_path / "profile")
    assert any("Slow network is detected" in line for line in page.console)  # Chromium logged it ...
    assert not any("Slow network" in line for line in page.errors)  # ... and it is not the page's error
    assert len(page.errors) == 1 and "Content Security Policy" in page.errors[0]


def test_the_request_check_catches_a_failed_request(site: tuple[str, Built, Requests], tmp_path: Path) -> None:
    url, _, requests = site
    render(f"{url}stories/st_nosuchstory", tmp_path / "profile")
    assert ("/stories/st_nosuchstory", 404) in requests.failed


def test_timeline_in_chromium_highlights_added_sentences(site: tuple[str, Built, Requests], tmp_path: Path) -> None:
    url, b, requests = site
    page = render(f"{url}stories/{b.story_id}", tmp_path / "profile")
    assert page.errors == [] and requests.failed == []
    assert ("/static/style.css", 200) in requests.seen  # the check saw the page's own requests
    marked = re.findall(r'<mark class="added">(.*?)</mark>', page.dom)
    v1, v2 = page.dom.split('id="v1"')[1].split('id="v2"')
    assert any(s.startswith("At least 34,000 people") for s in marked)
    assert any("Staffan de Mistura" in s for s in re.findall(r'<mark class="added">(.*?)</mark>', v2))
    flash = "The last group of rebels and their families holed up in a small enclave"
    assert f'<mark class="added">{flash}' in v1 and f'<span class="known">{flash}' in v2
    assert "<script" not in page.dom


def test_story_list_and_feeds_in_chromium(site: tuple[str, Built, Requests], tmp_path: Path) -> None:
    url, b, requests = site
    listing = render(url, tmp_path / "profile")
    assert listing.errors == []
    assert f'href="/stories/{b.story_id}"' in listing.dom
    feeds = render(url + "feeds", tmp_path / "profile")
    assert feeds.errors == [] and "<h1>Feeds</h1>" in feeds.dom
    assert requests.failed == []
