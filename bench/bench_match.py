"""Benchmark of the story matcher: speed, memory and candidate recall at 10k and 100k stories.

    python bench/bench_match.py           # 10k and 100k stored stories (a few minutes)
    python bench/bench_match.py --quick   # 2k and 10k stories (under a minute)
    python bench/bench_match.py --code ../main   # the same benchmark of another checkout's matcher

Synthetic, deterministic corpus (no data files needed): every story has its own rare words and names
(Zipf-distributed background words around them), articles are ~120 words in sentences, undated (the worst
case: no time window prunes anything). Queries are new articles about stored stories. Measured in one run:

* articles/s of ``Matcher.match`` on one core, at each size, by the clock and by the process's CPU time (on a
  shared machine the CPU figure is the steadier one; compare two versions back to back with ``--code``);
* memory: growth of the process's peak resident set (``ru_maxrss``) while the index was built;
* candidate recall: how often the story a brute-force tf-idf scan ranks first is among the matcher's
  candidates, and how often the matcher finds the true story;
* the same queries through a brute-force tf-idf cosine over every stored article (same features, same idf)
  and the speed ratio matcher / brute force.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# ``--code DIR``: the matcher of another checkout (a baseline), read before anything imports ``monitor``.
sys.path.insert(
    0,
    str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve())
    if "--code" in sys.argv[:-1]
    else str(Path(__file__).resolve().parents[1]),
)

from monitor.core import signals
from monitor.core.match import Matcher, MatchInput

try:
    from monitor.core.term_weights import sublinear
except ImportError:  # ``--code``: a checkout from before ``term_weights`` (2026-11-26) kept it in the index
    from monitor.core.match_index import sublinear  # type: ignore[no-redef]

VOCAB = 40_000
SEED = 3


def _zipf_words(rng: random.Random, n: int) -> list[str]:
    # Background vocabulary: rank r drawn with probability ~ 1/r (news-like word frequencies).
    return [f"w{int(math.exp(rng.random() * math.log(VOCAB)))}" for _ in range(n)]


def story_words(story: int) -> tuple[list[str], list[str]]:
    """The story's own topic words and capitalised names (deterministic per story)."""
    rng = random.Random(story * 7919 + SEED)
    topic = [f"t{rng.randrange(2_000_000)}" for _ in range(12)]
    names = [f"N{rng.randrange(1_000_000)}" for _ in range(4)]
    return topic, names


def article(story: int, version: int) -> MatchInput:
    """Version ``version`` of an article about ``story``: the story's words mixed into background words."""
    rng = random.Random(story * 104_729 + version * 31 + SEED)
    topic, names = story_words(story)
    words = _zipf_words(rng, 120)
    for i in rng.sample(range(120), 30):
        words[i] = rng.choice(topic + names)
    sentences = [" ".join(words[i : i + 12]).capitalize() + "." for i in range(0, 120, 12)]
    title = " ".join(rng.sample(topic, 4) + names[:1])
    return MatchInput(f"s{story}v{version}", title, "\n\n".join(sentences))


def build(matcher: Matcher, start: int, stop: int) -> None:
    for story in range(start, stop):
        matcher.add(f"story{story}", article(story, 0))


def queries(n_stories: int, n: int) -> Iterator[tuple[int, MatchInput]]:
    rng = random.Random(n_stories + SEED)
    for q in range(n):
        story = rng.randrange(n_stories)
        yield story, article(story, 1 + q)


def brute_force(matcher: Matcher, query: MatchInput) -> str | None:
    """tf-idf cosine against every stored article (the baseline the index must beat)."""
    index = matcher._index  # the benchmark measures internals on purpose
    feats = signals.features(query.title, query.text, None, None)
    vec, qnorm = index.vector(sublinear(feats.terms))
    best, best_story = 0.0, None
    for doc in index.docs.values():
        dot = sum(vec[t] * w * index.idf(t) for t, w in doc.terms.items() if t in vec)
        score = dot / (qnorm * index.doc_norm(doc))
        if score > best:
            best, best_story = score, doc.story
    return best_story


def candidate_stories(matcher: Matcher, query: MatchInput) -> set[str]:
    index = matcher._index
    feats = signals.features(query.title, query.text, None, None)
    vec, _ = index.vector(sublinear(feats.terms))
    return {index.docs[d].story for d in index.candidates(vec, None, math.inf)[0]}


def measure(matcher: Matcher, n_stories: int, n_queries: int, n_brute: int) -> dict[str, float]:
    qs = list(queries(n_stories, n_queries))
    started, cpu = time.perf_counter(), time.process_time()
    found = sum(matcher.match(q).story == f"story{s}" for s, q in qs)
    speed = n_queries / (time.perf_counter() - started)
    cpu_speed = n_queries / (time.process_time() - cpu)
    brute_qs = qs[:n_brute]
    started = time.perf_counter()
    brute = [brute_force(matcher, q) for _, q in brute_qs]
    brute_speed = n_brute / (time.perf_counter() - started)
    in_cands = sum(b in candidate_stories(matcher, q) for b, (_, q) in zip(brute, brute_qs, strict=True))
    return {
        "stories": n_stories,
        "articles_per_s": speed,
        "cpu_articles_per_s": cpu_speed,
        "true_story_found": found / n_queries,
        "brute_articles_per_s": brute_speed,
        "candidate_recall_vs_brute": in_cands / n_brute,
        "speedup": speed / brute_speed,
    }


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2k and 10k stories instead of 10k and 100k")
    parser.add_argument("--code", metavar="DIR", help="benchmark the matcher of this checkout instead")
    args = parser.parse_args()
    sizes = (2_000, 10_000) if args.quick else (10_000, 100_000)
    n_queries, n_brute = (300, 20) if args.quick else (2_000, 20)
    matcher = Matcher()
    rss_before = peak_rss_mib()
    rows, built = [], 0
    for size in sizes:
        started = time.perf_counter()
        build(matcher, built, size)
        add_speed = (size - built) / (time.perf_counter() - started)
        built = size
        row = measure(matcher, size, n_queries, n_brute)
        row["add_articles_per_s"] = add_speed
        row["index_rss_growth_mib"] = peak_rss_mib() - rss_before
        rows.append(row)
        print(f"... {size} stories measured", file=sys.stderr)
    print_table(rows)


def print_table(rows: list[dict[str, float]]) -> None:
    cols = [
        ("stories", "stories", "{:.0f}"),
        ("match art/s", "articles_per_s", "{:.0f}"),
        ("match art/s CPU", "cpu_articles_per_s", "{:.0f}"),
        ("add art/s", "add_articles_per_s", "{:.0f}"),
        ("brute-force art/s", "brute_articles_per_s", "{:.1f}"),
        ("speed-up", "speedup", "{:.0f}x"),
        ("cand. recall vs brute", "candidate_recall_vs_brute", "{:.3f}"),
        ("true story found", "true_story_found", "{:.3f}"),
        ("index memory MiB", "index_rss_growth_mib", "{:.0f}"),
    ]
    cells = [[fmt.format(r[key]) for _, key, fmt in cols] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (h, _, _) in enumerate(cols)]
    print("  ".join(h.rjust(w) for (h, _, _), w in zip(cols, widths, strict=True)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
    print(
        f"peak RSS of the whole process: {peak_rss_mib():.0f} MiB (ru_maxrss); "
        f"one core, CPython {sys.version.split()[0]}; matcher of {Path(signals.__file__).parents[2]}"
    )


if __name__ == "__main__":
    main()
