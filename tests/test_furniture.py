"""Site furniture: patterns in many languages, learning from repetition in the database (it
survives a restart), no event for an update whose only new text is furniture, changed values and removed
sentences in the payload, and a poll's items ingested oldest first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from monitor.alerts import formats
from monitor.config import Config, parse_config
from monitor.core import furniture
from monitor.core.model import Article
from monitor.service import metrics
from monitor.service.ingest import Ingestor
from monitor.sources.feeds import in_publication_order
from monitor.sources.fulltext import extract_main_text, fulltext_available
from monitor.store import furniture as furniture_store
from monitor.store import stories as story_store
from monitor.store.db import Database
from monitor.store.schema import events
from monitor.web.app import create_app
from tests.servers import FeedServer, rss
from tests.support import pipeline_for

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

FURNITURE = [
    "Success!",
    "An email has been sent with a link to confirm list signup.",
    "EMBED >More News Videos Dylann Storm Roof is accused of a shooting rampage.",
    "Follow CBSDFW.COM: Facebook | Twitter",
    "Close Get email notifications on Joel Currier daily!",
    "Sign up for our newsletter and have the top headlines delivered right to your inbox.",
    "Read more: Storm batters the coast",
    "Related: Five things to know about the storm",
    "Advertisement",
    "Photo: Jon Shapley, Houston Chronicle",
    "(AP Photo/Charles Rex Arbogast)",
    "Copyright 2015 The Associated Press. All rights reserved.",
    "This material may not be published, broadcast, rewritten or redistributed.",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    "Already a subscriber? Log in",
    "Updated 12 minutes ago",
    "1,204 shares",
    "Follow him on Twitter @michaeldwall.",
    "Please enable JavaScript to watch this video.",
    "You may also like...",
    # other languages
    "Lesen Sie auch: Sturm trifft die Küste",
    "Alle Rechte vorbehalten.",
    "Lire aussi : la tempête frappe la côte",
    "Tous droits réservés.",
    "Lee también: el temporal golpea la costa",
    "Leggi anche: la tempesta colpisce la costa",
    "Riproduzione riservata",
    "Leia também: tempestade atinge a costa",
    "Tempo de leitura: 1 minuto",
    "Lees ook: storm raakt de kust",
    "Читайте также: шторм обрушился на побережье",
    "Все права защищены.",
    "相关阅读：风暴袭击海岸",
    "関連記事：嵐が海岸を直撃",
]
NEWS = [
    "Police said 6 people were shot on Main Street late Friday.",
    "By the time officers arrived, the gunman had fled.",
    "“Sorry, we did not know,” the owner told reporters.",
    "More than 30 people died in the attack, officials said.",
    "Anyone with information is asked to call police at 555-1234.",
    "The photo shows the suspect leaving the store, police said.",
    "Die Polizei nahm am Freitag zwei Verdächtige fest.",
    "La police a arrêté deux suspects vendredi.",
    "La policía detuvo a dos sospechosos el viernes.",
    "Полиция задержала двух подозреваемых в пятницу.",
]


@pytest.mark.parametrize("sentence", FURNITURE)
def test_furniture_is_known_by_its_form(sentence: str) -> None:
    assert furniture.is_furniture(sentence)


@pytest.mark.parametrize("sentence", NEWS)
def test_news_is_not_furniture(sentence: str) -> None:
    assert not furniture.is_furniture(sentence)


def test_news_text_drops_furniture_headline_and_caption_lines_keeps_paragraphs() -> None:
    title = "Storm batters the coast"
    text = (
        "Storm batters the coast\n\nThe storm hit the coast on Friday, officials said. Advertisement\n\n"
        "Waves damaged 40 homes.\n\nThe 96W USB-C power adapter\n\nSuccess!"
    )
    out = furniture.news_text(text, title=title)
    assert out == "The storm hit the coast on Friday, officials said.\n\nWaves damaged 40 homes."
    # a lone short line is a feed's summary, not a caption: kept
    assert furniture.news_text("Police investigate shooting in Dallas") == "Police investigate shooting in Dallas"
    learnt = frozenset({furniture.fingerprint("Waves damaged 40 homes.")})
    assert furniture.news_text(text, title=title, learnt=learnt) == "The storm hit the coast on Friday, officials said."


def test_a_data_list_of_short_lines_is_content_a_list_of_headlines_is_not() -> None:
    lead = "The last four places were decided on Tuesday night, the federation said."
    table = ["- Iceland (Group H): Third appearance", "- Norway (Group F): 4th appearance",
             "- Serbia (Group B): Second appearance", "- Georgia (Group D): Zero appearances"]  # fmt: skip
    related = ["Most read", "- 15 Amazing Photos of the Final", "- Photos: Fans, Flares and a Long Night",
               "- Coach Quits After Shock Defeat"]  # fmt: skip
    text = "\n\n".join([lead, "Qualified teams", *table, *related])
    assert furniture.news_sentences(text) == [lead, *table]
    # a credit printed under every photo is one line repeated, not a list; nor are phone numbers
    credits = "\n\n".join([lead, *["Jane Roe/KXYZ"] * 3, "(555) 222-2027", "(555) 222-2134", "(555) 223-4616"])
    assert furniture.news_sentences(credits) == [lead]
    # a footnote is the article's own reference, not a caption; a form's labels are furniture
    notes = "\n\n".join([lead, "[2] National Safety Goal: Alarm Management | Top 10 Hazards",
                          "Required Email:", "Required Telephone:", "Required Comment:"])  # fmt: skip
    assert furniture.news_sentences(notes) == [lead, "[2] National Safety Goal: Alarm Management | Top 10 Hazards"]


def test_outlet_key_is_the_host_without_www() -> None:
    assert furniture.outlet_key("https://www.Example.com/a/b", "feed") == "example.com"
    assert furniture.outlet_key(None, "wire") == "feed:wire"


def test_trafilatura_lines_become_paragraphs() -> None:
    if not fulltext_available()[0]:
        pytest.skip("trafilatura not installed")
    page = (
        "<html><body><article><h2>Thousands of teachers rally</h2><p>Several thousand teachers wearing red "
        "surrounded the Statehouse on Tuesday, union leaders said, and lawmakers met them there.</p>"
        "<p>The union asked for higher pay and fewer tests in the coming school year.</p></article></body></html>"
    )
    text = extract_main_text(page.encode(), "http://x.test/story")
    assert text is not None and "rally\n\nSeveral thousand" in text


# --- learning from repetition, in the database ----------------------------------------------------------


def _db(tmp: Path) -> Database:
    return Database(f"sqlite:///{tmp / 'monitor.db'}")


def test_a_sentence_in_three_stories_of_one_outlet_is_learnt_and_survives_a_restart(tmp_path: Path) -> None:
    fp = furniture.fingerprint("There's plenty more where that came from.")
    db = _db(tmp_path)
    with db.write() as conn:
        furniture_store.observe(conn, "example.com", "st_1", [fp], NOW)
        furniture_store.observe(conn, "example.com", "st_1", [fp], NOW)  # the same story again: not counted
        furniture_store.observe(conn, "example.com", "st_2", [fp], NOW)
        furniture_store.observe(conn, "other.org", "st_3", [fp], NOW)  # another outlet: not counted
        assert furniture_store.learnt(conn, "example.com", [fp]) == frozenset()
        furniture_store.observe(conn, "example.com", "st_3", [fp], NOW)
    db.close()
    again = _db(tmp_path)  # a restart
    with again.write() as conn:
        assert furniture_store.learnt(conn, "example.com", [fp]) == {fp}
        assert furniture_store.learnt(conn, "other.org", [fp]) == frozenset()
    assert furniture_store.outlet_furniture(again, "example.com") == {fp}
    # housekeeping forgets sentences seen too rarely for too long, never learnt furniture
    assert furniture_store.forget_unconfirmed(again, NOW + timedelta(days=31)) == 1
    assert furniture_store.outlet_furniture(again, "example.com") == {fp}
    again.close()


def test_the_counts_observe_returns_are_what_the_table_then_holds(tmp_path: Path) -> None:
    """The ingest asks ``learnt`` with the counts ``observe`` returned instead of reading them back."""
    fps = [furniture.fingerprint(f"Line {i} of the page.") for i in range(6)]
    db = _db(tmp_path)
    with db.write() as conn:
        for story, seen in (("st_1", fps[:5]), ("st_1", fps[:2]), ("st_2", fps[1:4]), ("st_3", fps[2:]), ("st_4", fps)):
            counted = furniture_store.observe(conn, "example.com", story, seen + seen[:1], NOW)  # a repeat
            read = furniture_store._rows(conn, "example.com", fps)
            assert counted == {fp: read[fp][0] for fp in seen}
            learnt = furniture_store.learnt(conn, "example.com", fps, counted)
            assert learnt == furniture_store.learnt(conn, "example.com", fps)
    assert learnt == set(fps[1:5])  # in three stories or more; fps[0] and fps[5] in two
    db.close()


def config(tmp: Path) -> Config:
    raw = {"monitor": {"database": f"sqlite:///{tmp / 'monitor.db'}", "jitter": 0}}
    return parse_config(raw, base=tmp)


def _article(guid: str, title: str, text: str, host: str = "news.example.com") -> Article:
    return Article("feed", guid, title, text, f"https://{host}/{guid}", None, "Example News")


def _payloads(db: Database, story_id: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(select(events.c.payload).where(events.c.story_id == story_id).order_by(events.c.story_seq))
        return [r.payload for r in rows]


LEAD = (
    "Firefighters are battling a large blaze at a chemical plant near the harbour, officials said.\n\n"
    "At least 34,000 people were evacuated from nearby districts overnight.\n\n"
    "Two workers died in the fire, the plant's owner said.\n\n"
    "This is a developing story."  # a developing marker: the catch-all watchlist follows only those
)


def test_an_update_whose_only_new_text_is_furniture_sends_no_event(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    db = Database(cfg.monitor.database)
    ing = Ingestor(cfg, db)
    first = ing.ingest(_article("a1", "Chemical plant fire", LEAD), NOW)
    assert first.events == ("story.opened",)
    junk = "\n\n".join([LEAD, "Success!", "An email has been sent with a link to confirm list signup."])
    junk += "\n\nEMBED >More News Videos Firefighters battle the blaze.\n\nFollow CBSDFW.COM: Facebook | Twitter"
    second = ing.ingest(_article("a1", "Chemical plant fire", junk), NOW + timedelta(minutes=10))
    assert second.status == "new-version"
    assert second.novelty is not None and second.novelty.added == () and not second.novelty.facts
    assert second.events == ()
    db.close()


def test_learnt_furniture_is_not_news_after_a_restart(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    promo = "There's plenty more where that came from."
    topics = [
        (
            "Springfield council approves parks budget",
            "The Springfield city council approved a parks budget of $2 million on Monday. Mayor Alice Reed "
            "said the money would renovate Lincoln Park and the Oak Grove playground before summer.",
        ),
        (
            "Elm Street bridge closed for repairs",
            "Engineers closed the Elm Street bridge over the Dover River for three weeks of repairs. Drivers "
            "were told to use Route 9, and ferries will run every 20 minutes, the transport office said.",
        ),
        (
            "Natural history museum opens dinosaur wing",
            "The Carnegie natural history museum opened a wing with 14 dinosaur skeletons on Saturday. "
            "Curator Maria Lopez said a Tyrannosaurus found in Montana is the centrepiece.",
        ),
    ]
    db = Database(cfg.monitor.database)
    ing = Ingestor(cfg, db)
    ids = {ing.ingest(_article(f"s{i}", t, f"{body}\n\n{promo}"), NOW).story_id for i, (t, body) in enumerate(topics)}
    assert len(ids) == 3  # three different stories of one outlet
    db.close()
    db = Database(cfg.monitor.database)  # a restart: a fresh process knows only the database
    ing = Ingestor(cfg, db)
    ing.ingest(_article("a1", "Chemical plant fire", LEAD), NOW)
    update = ing.ingest(_article("a1", "Chemical plant fire", f"{LEAD}\n\n{promo}"), NOW + timedelta(minutes=5))
    assert update.novelty is not None and update.novelty.added == ()
    assert update.events == ()
    db.close()


def test_changed_values_and_removed_sentences_are_in_the_payload(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    db = Database(cfg.monitor.database)
    ing = Ingestor(cfg, db)
    v1 = LEAD + "\n\nThe mayor will speak at a news conference later on Friday.\n\nAdvertisement"
    opened = ing.ingest(_article("a1", "Chemical plant fire", v1), NOW)
    v2 = LEAD.replace("34,000", "37,000").replace("Two workers", "Three workers")
    updated = ing.ingest(_article("a1", "Chemical plant fire", v2), NOW + timedelta(minutes=10))
    assert updated.events == ("story.updated",)
    update = _payloads(db, str(opened.story_id))[-1]["update"]
    assert update["changed"] == [
        {
            "old": "At least 34,000 people were evacuated from nearby districts overnight.",
            "new": "At least 37,000 people were evacuated from nearby districts overnight.",
            "values": [{"old": "34,000 people", "new": "37,000 people"}],
        },
        {
            "old": "Two workers died in the fire, the plant's owner said.",
            "new": "Three workers died in the fire, the plant's owner said.",
            "values": [{"old": "two workers", "new": "three workers"}],
        },
    ]
    # the dropped news sentence is removed; the dropped "Advertisement" is furniture, never listed
    assert update["removed"] == ["The mayor will speak at a news conference later on Friday."]
    # chat formats lead with the changed values
    fields = formats.slack(_payloads(db, str(opened.story_id))[-1])["blocks"][2]["fields"]
    assert fields[0]["text"] == "*Changed:* 34,000 people \u2192 37,000 people; two workers \u2192 three workers"
    # the web timeline shows the same under version 2
    registry = metrics.registry_for(db, lambda: NOW, base=metrics.Metrics())
    page = get(create_app(db, clock=lambda: NOW, registry=registry), f"/stories/{opened.story_id}")
    assert page.status_code == 200
    html = page.text
    assert "2 changed" in html and "1 removed" in html
    assert "<del>34,000 people</del> &rarr; <ins>37,000 people</ins>" in html
    assert "<del>The mayor will speak at a news conference later on Friday.</del>" in html
    db.close()


def get(app: Any, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            return await client.get(path)

    return asyncio.run(go())


# --- order ------------------------------------------------------------------------------------------------


def test_publication_order_is_oldest_first_then_undated_in_feed_order() -> None:
    def art(guid: str, hours: int | None) -> Article:
        return Article("f", guid, guid, "t", None, None if hours is None else NOW + timedelta(hours=hours))

    feed = [art("new", 3), art("undated-1", None), art("old", 1), art("mid", 2), art("undated-2", None)]
    assert [a.guid for a in in_publication_order(feed)] == ["old", "mid", "new", "undated-1", "undated-2"]


def test_a_backlog_newest_first_in_the_feed_is_ingested_oldest_first(tmp_path: Path, feed_server: FeedServer) -> None:
    """After downtime the feed holds three versions of one story (newest first, as feeds list them): each
    must be compared with the one before it, so the opening version is the oldest."""
    url = feed_server.url("/f.rss")
    texts = [
        LEAD,
        LEAD + "\n\nThe fire was brought under control by noon, the fire brigade said.",
        LEAD + "\n\nThe fire was brought under control by noon, the fire brigade said."
        "\n\nInvestigators will examine the site on Monday, prosecutors said.",
    ]
    items = [
        {
            "title": "Chemical plant fire",
            "link": f"http://127.0.0.1/story-{i}",
            "guid": f"g{i}",
            "description": t,
            "pubDate": format_datetime(NOW + timedelta(hours=i)),
        }
        for i, t in enumerate(texts)
    ]
    feed_server.set("/f.rss", rss(items[::-1]))
    raw = {"monitor": {"database": "sqlite:///monitor.db", "jitter": 0}, "feeds": [{"name": "f", "url": url}]}
    cfg = parse_config(raw, base=tmp_path)

    async def run() -> None:
        pipeline = pipeline_for(cfg, lambda: NOW + timedelta(hours=3))
        try:
            pipeline.sync_feeds()
            await pipeline.poll_due(every_feed=True)
        finally:
            await pipeline.aclose()
            pipeline.poller.close()
            pipeline.db.close()

    asyncio.run(run())
    db = Database(cfg.monitor.database)
    story = story_store.list_stories(db)[0]
    versions = story_store.story_versions(db, story.id)
    assert [v.article.guid for v in versions] == ["g0", "g1", "g2"]
    assert versions[1].added == ["The fire was brought under control by noon, the fire brigade said."]
    assert versions[2].added == ["Investigators will examine the site on Monday, prosecutors said."]
    db.close()
