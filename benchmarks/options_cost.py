"""What search options cost, on one index, in one run: the same queries searched plain, with
`explain=True` and with `boost=` (a recency decay over a date and a metadata weight), the three
interleaved query by query (their order rotating), p50 / p95 at k=10 and k=100, and each
option's ratio to the plain search. Hybrid search (dense + BM25, DBSF, no rerank) over SciFact
abstracts; dense query vectors are computed first (as in query_path.py) so that the model's time
stays out. Each abstract gets a synthetic date and source (the boost reads them).

`--against REV` (default: the commit before explain landed) also times the plain search
(`explain=False`) of REV's code against this code's: each in its own process, alternating for
`--rounds` rounds, REV in a temporary git worktree (`side_by_side.checkout`).

Usage: python benchmarks/options_cost.py [--docs 1000] [--queries 150] [--rounds 3]
       [--against REV | --no-against] [--out results/options_cost.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from procs import cpu
from query_path import corpus
from side_by_side import ROOT, checkout

HERE = Path(__file__).resolve().parent
KS = (10, 100)
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BOOST = {"recency": {"key": "published", "half_life": "365d", "now": NOW.isoformat()},
         "match": [({"source": "official"}, 1.3)]}
OPTIONS: dict[str, dict] = {"plain": {}, "explain": {"explain": True}, "boost": {"boost": BOOST}}


def metadata(i: int) -> dict:
    """A date within ten years before NOW and a source (one abstract in five "official")."""
    published = NOW - dt.timedelta(days=(i * 37) % 3650)
    return {"published": published.isoformat(), "source": "official" if i % 5 == 0 else "journal"}


def build(docs: int, queries: int, name: str):
    """The index (embedded engine of $HYBRIDSTORE_ENGINE, in memory), the queries and their dense vectors."""
    from hybridstore import HybridIndex, Models, Record

    texts, vectors, asked = corpus(docs, queries)
    models = Models()
    index = HybridIndex(name, models, location=":memory:")
    index.add([Record(str(i), t, metadata(i)) for i, t in enumerate(texts)], dense=vectors)
    query_vectors = [[float(x) for x in v] for v in models.dense.embed_queries(asked)]
    return index, list(zip(asked, query_vectors))


def percentiles(took: list[float]) -> dict:
    return {"p50_ms": float(np.median(took)), "p95_ms": float(np.percentile(took, 95))}


def measure(docs: int, queries: int, options: tuple[str, ...]) -> dict:
    """p50 / p95 ms per (option, k) in this process, the options interleaved query by query."""
    index, asked = build(docs, queries, "options_cost")
    took: dict[tuple[str, int], list[float]] = {(o, k): [] for o in options for k in KS}
    for q, v in asked[:5]:  # warm-up, untimed
        for k in KS:
            for o in options:
                index.search(q, k, dense_vector=v, rerank=False, **OPTIONS[o])
    for n, (q, v) in enumerate(asked):
        for k in KS:
            for o in options[n % len(options):] + options[:n % len(options)]:  # each option first in turn
                start = time.perf_counter()
                index.search(q, k, dense_vector=v, rerank=False, **OPTIONS[o])
                took[o, k].append((time.perf_counter() - start) * 1000)
    index.close()
    out: dict = {f"k={k}": {o: percentiles(took[o, k]) for o in options} for k in KS}
    for k in KS:
        plain = out[f"k={k}"].get("plain")
        for o in options:
            if o != "plain" and plain:
                out[f"k={k}"][f"{o} / plain"] = {p: out[f"k={k}"][o][p] / plain[p] for p in plain}
    return out


def before_explain() -> str:
    """The commit before src/hybridstore/explain.py was added."""
    added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", "src/hybridstore/explain.py"],
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    return f"{added[-1]}^"  # the first commit that added it


def plain_in(src: Path, docs: int, queries: int) -> dict:
    """The plain search timed by `src`'s code, in its own process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, __file__, "--one-plain", "--docs", str(docs), "--queries", str(queries)],
                          cwd=HERE, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def against(rev: str, docs: int, queries: int, rounds: int) -> dict:
    runs: dict[str, list[dict]] = {"before": [], "this": []}
    with checkout(rev) as tree:
        for _ in range(rounds):
            runs["before"].append(plain_in(tree / "src", docs, queries))
            runs["this"].append(plain_in(ROOT / "src", docs, queries))
    summary = {}
    for k in KS:
        for p in ("p50_ms", "p95_ms"):
            old, new = (statistics.median(r[f"k={k}"]["plain"][p] for r in runs[s]) for s in ("before", "this"))
            summary[f"k={k} {p}"] = {"before": old, "this": new, "this / before": new / old}
    return {"rev": rev, "rounds": rounds, "summary": summary, "runs": runs}


def main(docs: int, queries: int, rounds: int, rev: str | None, out: Path | None) -> dict:
    corpus(docs, queries)  # embed and cache the documents once, before any timing
    result: dict = {"machine": cpu(), "engine": os.environ.get("HYBRIDSTORE_ENGINE") or "edge", "docs": docs,
                    "queries": queries, "boost": BOOST, "search": "hybrid (dbsf), rerank=False, dense query vector given",
                    **measure(docs, queries, tuple(OPTIONS))}
    for k in KS:
        row = result[f"k={k}"]
        print(f"k={k:<4}" + "".join(f"  {o} p50 {row[o]['p50_ms']:.2f} p95 {row[o]['p95_ms']:.2f} ms" for o in OPTIONS)
              + "".join(f"  {o} / plain p50 {row[f'{o} / plain']['p50_ms']:.3f}" for o in OPTIONS if o != "plain"))
    if rev is not None:
        result["explain=False against the commit before explain"] = against(rev, docs, queries, rounds)
        for key, v in result["explain=False against the commit before explain"]["summary"].items():
            print(f"plain {key}: before {v['before']:.2f} ms, this {v['this']:.2f} ms, this / before {v['this / before']:.3f}")
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, default=1000)
    p.add_argument("--queries", type=int, default=150)
    p.add_argument("--rounds", type=int, default=3, help="rounds of the plain search against --against")
    p.add_argument("--against", default=None, help="a commit (default: the one before explain landed)")
    p.add_argument("--no-against", action="store_true", help="skip the comparison with another commit")
    p.add_argument("--one-plain", action="store_true", help="the plain search only, in this process (JSON)")
    p.add_argument("--out", type=Path, default=HERE / "results" / "options_cost.json")
    a = p.parse_args()
    if a.one_plain:
        print(json.dumps(measure(a.docs, a.queries, ("plain",))))
    else:
        main(a.docs, a.queries, a.rounds, None if a.no_against else a.against or before_explain(), a.out)
