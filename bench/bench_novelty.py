"""Benchmark of novelty on real data: quality on article pages and on the labelled furniture
sample, and the speed of the novelty step.

    python bench/bench_novelty.py            # everything (about a minute on an idle machine)
    python bench/bench_novelty.py --speed    # only the speed part

Quality (bench/novelty_eval.py says how): the share of added sentences and of names reported in the
webhook payloads that are in the annotators' article body (92 pages of ../shared/data/article_pages through
a real Ingestor on SQLite); precision and recall of the furniture filter on tests/data/furniture_sample.tsv
(gva_incidents sentences labelled by hand), by patterns alone and with what repetition teaches.

Speed, on one core, per article of ordinary length (GVA articles, median about 1,400 characters), version 2
(the whole article) against version 1 (its first half):
  * baseline: ``compute_novelty`` on the raw text (what the ingest step ran before furniture was stripped);
  * the step now: fingerprints of the sentences, furniture removed (``core.furniture.news_text``),
    ``compute_novelty``, changed values and removed sentences (``service.updates.with_changes``); the
    database reads and writes of the furniture store are not in it (they are measured with the ingest).
The ratio step / baseline is printed; both are measured in the same run (timings on a shared machine are
noisy: best of five runs).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import novelty_eval as ev

from monitor.core import furniture
from monitor.core import text as textmod
from monitor.core.novelty import KnownText, compute_novelty
from monitor.service.updates import with_changes

SPEED_ARTICLES = 200


def quality() -> None:
    pages = ev.load_pages()
    with tempfile.TemporaryDirectory() as tmp:
        scores = ev.score_pages(pages, Path(tmp))
    print(f"article_pages: {scores.pages} pages, {scores.events} events read back from the outbox")
    print(f"  added sentences in the body: {scores.added.hits}/{scores.added.total} = {scores.added.share:.4f}")
    print(f"  names in the body:           {scores.names.hits}/{scores.names.total} = {scores.names.share:.4f}")
    docs = ev.load_gva()
    sample = ev.load_sample()
    for label, learnt in (("patterns", None), ("patterns + repetition", ev.learnt_by_outlet(docs))):
        f = ev.score_sample(sample, docs, learnt)
        print(
            f"furniture sample, {label}: precision {f.precision:.3f} recall {f.recall:.3f} "
            f"(tp {f.tp} fp {f.fp} fn {f.fn} tn {f.tn}, stale labels {f.stale})"
        )


def _step(previous: str, title: str, text: str) -> object:
    """The pure part of ``service.updates.version_novelty``, in the same order (the store calls left out:
    one learnt fingerprint stands for the store's answer, so the lookup runs)."""
    known = KnownText.of([(title, previous)])  # as the ingest reads it: the stored text of earlier versions
    paragraphs = furniture.split(text)
    fps = furniture.fingerprints(paragraphs)
    judged = furniture.judge(paragraphs, title, frozenset(fps[:1]))
    news = [s for para in judged for s, keep in para if keep]
    novelty = compute_novelty(known, title, furniture.joined(judged), news)
    return with_changes(novelty, news, known.sentences, None)


def speed() -> None:
    docs = [d for d in ev.load_gva() if d["text"] and not d["quality_flags"]]
    docs.sort(key=lambda d: len(d["text"]))
    middle = docs[len(docs) // 4 : 3 * len(docs) // 4]  # ordinary length: the middle half
    pick = random.Random(12).sample(middle, SPEED_ARTICLES)
    cases = []
    for d in pick:
        paras = textmod.paragraphs(d["text"])
        cases.append(("\n\n".join(paras[: max(1, len(paras) // 2)]), d["title"] or "", d["text"]))
    chars = sorted(len(c[2]) for c in cases)[len(cases) // 2]

    def baseline() -> None:
        for previous, title, text in cases:
            compute_novelty(KnownText.of([(title, previous)]), title, text)

    def step() -> None:
        for previous, title, text in cases:
            _step(previous, title, text)

    base = ev.per_call_ms(baseline, 1) / len(cases)
    now = ev.per_call_ms(step, 1) / len(cases)
    print(f"speed: {len(cases)} GVA articles, median {chars} characters, one core, best of 5")
    print(f"  baseline compute_novelty on raw text: {base:.3f} ms/article")
    print(f"  novelty step (furniture, novelty, changes): {now:.3f} ms/article  (ratio {now / base:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed", action="store_true", help="only the speed part")
    args = parser.parse_args()
    if not ev.DATA.is_dir():
        sys.exit(f"data not found at {ev.DATA} (../shared/data next to the repository)")
    if not args.speed:
        quality()
    speed()


if __name__ == "__main__":
    main()
