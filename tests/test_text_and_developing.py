"""Text handling and the developing-story decision, on small hand-made cases."""

from __future__ import annotations

import pytest

from monitor.core import text
from monitor.core.developing import developing_markers
from tests.support import SeedStory


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    html = (
        "<div><p>First &amp; one.</p><script>alert(1)</script><p>Second<br>line</p><figcaption>Photo</figcaption></div>"
    )
    assert text.paragraphs(text.html_to_text(html)) == ["First & one.", "Second", "line"]
    assert text.html_to_text("plain & simple") == "plain & simple"


@pytest.mark.parametrize(
    ("para", "expected"),
    [
        (
            "He met U.N. envoy Staffan de Mistura. Then he left.",
            ["He met U.N. envoy Staffan de Mistura.", "Then he left."],
        ),
        (
            "John F. Kerry spoke on Dec. 22 in Washington. Nobody answered.",
            ["John F. Kerry spoke on Dec. 22 in Washington.", "Nobody answered."],
        ),
        (
            "\u201cIt is over,\u201d he said. \u201cWe won.\u201d",
            ["\u201cIt is over,\u201d he said.", "\u201cWe won.\u201d"],
        ),
        (
            "Prices rose 3.5 percent. Analysts were surprised!",
            ["Prices rose 3.5 percent.", "Analysts were surprised!"],
        ),
    ],
)
def test_split_sentences(para: str, expected: list[str]) -> None:
    assert text.split_sentences(para) == expected


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("BEIRUT, Dec 22 (Reuters) \u2013 The army said so.", "The army said so."),
        ("WASHINGTON (AP) \u2014 Lawmakers met.", "Lawmakers met."),
        ("HAWTHORNE \u2014 The name was released.", "The name was released."),
        ("The army said so.", "The army said so."),
    ],
)
def test_datelines_are_stripped(raw: str, clean: str) -> None:
    assert text.strip_dateline(raw) == clean


@pytest.mark.parametrize(
    "sentence",
    [
        "Check back for updates on this developing story.",
        "This story will be updated.",
        "(Reporting by Suleiman Al-Khalidi in Amman; Editing by Giles Elgood)",
        "A rebel fighter stands near vehicles\u00a9 REUTERS/Ammar Abdullah",
        "Photo: a convoy leaves the city",
    ],
)
def test_boilerplate(sentence: str) -> None:
    assert text.is_boilerplate(sentence)


def test_news_is_not_boilerplate() -> None:
    assert not text.is_boilerplate("At least 34,000 people have been evacuated from east Aleppo.")


def test_seed_flash_and_full_are_developing(seed_story: SeedStory) -> None:
    assert developing_markers(seed_story.headline, seed_story.flash) == ("developing-story", "check-back")
    assert developing_markers(seed_story.headline, seed_story.full)


@pytest.mark.parametrize(
    ("title", "body", "marker"),
    [
        ("UPDATE 2-Syria says army retakes Aleppo", "The army said.", "update-prefix"),
        ("BREAKING: Quake hits coast", "A quake hit.", "breaking"),
        ("Live updates: election night", "Results are coming in.", "live"),
        (
            "Fire in the hills",
            "This story will be updated as more information becomes available.",
            "will-be-updated",
        ),
        ("Fire in the hills", "Crews are at the scene. More to follow.", "more-to-follow"),
    ],
)
def test_markers(title: str, body: str, marker: str) -> None:
    assert marker in developing_markers(title, body)


def test_ordinary_articles_are_not_developing() -> None:
    assert not developing_markers("Stocks edge higher", "Shares rose modestly on Tuesday in New York.")
    assert developing_markers("Match report", "It was a game.", ("LiveBlogPosting",)) == ("markup:LiveBlogPosting",)
