"""onnxruntime intra-op threads and fastembed's `parallel` against this machine's cores, for
ingest (dense + BM25, the default models) and for concurrent hybrid queries, side by side.

Each setting runs in its own process: SciFact's judged documents of the chosen queries plus
`--limit` others are ingested, then the queries are searched (k=10, hybrid) by 1, 2 and 4
Python threads at once through one index; reported: ingest docs/s, peak RSS, single-query p50
and queries/s at each concurrency. Rounds alternate the settings.

Usage: python benchmarks/threads.py [--limit N] [--max-queries N] [--rounds N] [--out FILE];
writes benchmarks/results/threads.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from procs import alternate, scifact_ingested, subset_parser

HERE = Path(__file__).resolve().parent
# name: (threads, parallel); threads None = onnxruntime's default (one per core)
SETTINGS = {"default": (None, None), "threads=1": (1, None), "threads=2": (2, None),
            "threads=1 parallel=2": (1, 2)}
CONCURRENCY = (1, 2, 4)


def one(name: str, limit: int | None, max_queries: int | None) -> dict:
    """One setting's figures, in this process."""
    from hybridstore import Models

    threads, parallel = SETTINGS[name]
    models = Models(threads=threads, parallel=parallel)
    models.load()
    got = scifact_ingested(models, limit, max_queries)
    index, queries, qids = got["index"], got["queries"], got["qids"]
    ingest_s, rss_ingest, n_docs = got["ingest_s"], got["rss_ingest_mb"], got["docs"]
    texts = [queries[q] for q in qids]
    for t in texts[:5]:
        index.search(t, 10)  # warm
    took = []
    for t in texts:
        s = time.perf_counter()
        index.search(t, 10)
        took.append(1000 * (time.perf_counter() - s))
    qps = {}
    for workers in CONCURRENCY:
        with ThreadPoolExecutor(workers) as pool:
            s = time.perf_counter()
            list(pool.map(lambda t: index.search(t, 10), texts * 2))
            qps[str(workers)] = 2 * len(texts) / (time.perf_counter() - s)
    return {"setting": name, "threads": threads, "parallel": parallel, "cores": os.cpu_count(),
            "docs": n_docs, "queries": len(texts), "ingest_docs_per_s": n_docs / ingest_s,
            "peak_rss_mb_ingest": rss_ingest, "query_p50_ms": statistics.median(took),
            "queries_per_s": qps}


def main(limit: int | None = None, max_queries: int | None = None, rounds: int = 1,
         out: Path = HERE / "results" / "threads.json") -> dict:
    args = [*(["--limit", str(limit)] if limit is not None else []),
            *(["--max-queries", str(max_queries)] if max_queries is not None else [])]
    runs = alternate(__file__, list(SETTINGS), args, rounds)
    base = runs["default"]

    def med(rs: list[dict], get) -> float:
        return statistics.median(get(r) for r in rs)

    ratios = {name: {
        "ingest_docs_per_s": med(rs, lambda r: r["ingest_docs_per_s"]) / med(base, lambda r: r["ingest_docs_per_s"]),
        "query_p50_ms": med(rs, lambda r: r["query_p50_ms"]) / med(base, lambda r: r["query_p50_ms"]),
        **{f"queries_per_s x{w}": med(rs, lambda r, w=w: r["queries_per_s"][str(w)])
           / med(base, lambda r, w=w: r["queries_per_s"][str(w)]) for w in CONCURRENCY}}
        for name, rs in runs.items()}
    result = {"runs": runs, "ratios (setting / default, medians over rounds)": ratios}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(ratios, indent=2))
    return result


if __name__ == "__main__":
    p = subset_parser()
    p.add_argument("--out", type=Path, default=HERE / "results" / "threads.json")
    p.add_argument("--one", choices=list(SETTINGS), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.limit, a.max_queries)))
    else:
        main(a.limit, a.max_queries, a.rounds, a.out)
