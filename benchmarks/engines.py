"""Qdrant Edge vs qdrant-client's local mode, side by side on the same data.

Each (engine, size) runs in its own subprocess (so peak RSS is its own) through hybridstore's
engine layer: the same points, plans and filters reach both engines. Dense vectors are real
with --real (the pack's MiniLM over ~100k SciFact sentence chunks, queries are SciFact's 300
queries; see real_vectors.py) or random; sparse (BM25-like, 40 terms of 30k, IDF modifier) and
late-interaction (16 x 128 token) vectors are synthetic and seeded. recall@10 compares edge's
HNSW dense search (after optimize) with exact search over every query. Writes
benchmarks/results/engines.json and engines.md.

Usage: python benchmarks/engines.py [--real] [--sizes 10000,100000] [--queries 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import real_vectors

from hybridstore.engine import ClientEngine, EdgeEngine
from hybridstore.engine.requests import Count, Create, IndexPayload, Optimize, Query, Write
from hybridstore.qdrant import filters
from hybridstore.qdrant.payload import Point, SparseVec
from hybridstore.qdrant.query import SearchRequest, build_plan, resolve
from hybridstore.qdrant.schema import build_schema

DIM, TOKENS, LATE_DIM, VOCAB, TERMS, BATCH = 384, 16, 128, 30_000, 40, 500
NAMES = {"dense": "dense", "sparse": "sparse", "late_interaction": "late"}
KINDS = {"dense", "sparse", "late_interaction"}
OUT = Path(__file__).resolve().parent / "results"
QUERY_TYPES = {
    "dense": {"mode": "dense", "rerank": False},
    "sparse": {"mode": "sparse", "rerank": False},
    "hybrid": {"mode": "hybrid", "rerank": False},
    "hybrid+rerank": {"mode": "hybrid", "rerank": True, "fetch_k": 100},
    "filtered dense": {"mode": "dense", "rerank": False, "filter": {"topic": "t7"}},
}


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def vectors(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[SparseVec], np.ndarray]:
    dense = unit(rng.standard_normal((n, DIM)).astype(np.float32))
    sparse = [SparseVec(sorted(rng.choice(VOCAB, TERMS, replace=False).tolist()),
                        rng.random(TERMS).round(3).tolist()) for _ in range(n)]
    late = unit(rng.standard_normal((n, TOKENS, LATE_DIM)).astype(np.float32))
    return dense, sparse, late


def batches(n: int, real: np.ndarray | None):
    for start in range(0, n, BATCH):
        rng = np.random.default_rng(start)
        dense, sparse, late = vectors(rng, min(BATCH, n - start))
        if real is not None:
            dense = real[start:start + len(dense)]
        yield start, dense, [
            Point(f"00000000-0000-0000-0000-{start + i:012d}",
                  {"dense": dense[i].tolist(), "sparse": sparse[i], "late": late[i].tolist()},
                  {"page_content": f"doc {start + i}", "metadata": {"topic": f"t{(start + i) % 50}"}})
            for i in range(len(dense))]


def open_engine(name: str, folder: str, in_memory: bool):
    if name == "edge":
        return EdgeEngine(path=folder)
    return ClientEngine(location=":memory:") if in_memory else ClientEngine(path=folder)


def one(name: str, n: int, queries: int, in_memory: bool, real: bool) -> dict:
    folder = tempfile.mkdtemp(prefix=f"bench-{name}-")
    engine = open_engine(name, folder, in_memory)
    schema = build_schema({"dense": DIM, "sparse": None, "late_interaction": LATE_DIM}, {"sparse": "idf"})
    engine.run("bench", Create(schema))
    engine.run("bench", IndexPayload("metadata.topic", "keyword"))
    real_docs, real_queries = real_vectors.load() if real else (None, None)
    if real_docs is not None and n > len(real_docs):
        raise SystemExit(f"--real has {len(real_docs)} vectors, fewer than {n}")
    all_dense = np.empty((n, DIM), dtype=np.float32)
    upsert_s = 0.0
    for offset, dense, points in batches(n, real_docs):  # data generation is not timed
        start = time.perf_counter()
        engine.run("bench", Write(points))
        upsert_s += time.perf_counter() - start
        all_dense[offset:offset + len(dense)] = dense
    start = time.perf_counter()
    engine.run("bench", Optimize())
    optimize_s = time.perf_counter() - start
    qd, qs, ql = vectors(np.random.default_rng(10**9), queries)
    recall_queries = qd
    if real_queries is not None:
        qd, recall_queries = real_queries[:queries], real_queries
    result = {"engine": name, "points": n, "dense": "real" if real else "random",
              "storage": ":memory:" if in_memory else "path",
              "upsert_points_per_s": n / upsert_s, "optimize_s": optimize_s}
    for label, options in QUERY_TYPES.items():
        options = dict(options)
        flt = filters.to_filter(options.pop("filter", None))
        req = resolve(SearchRequest(k=10, **options), KINDS)
        took = []
        for i in range(queries):
            plan = build_plan(req, {"dense": qd[i].tolist(), "sparse": qs[i], "late_interaction": ql[i][:8].tolist()},
                              NAMES, flt)
            t = time.perf_counter()
            engine.run("bench", Query(plan))
            took.append(time.perf_counter() - t)
        result[f"{label} p50 ms"] = 1000 * statistics.median(took)
    if name == "edge":  # local mode searches exactly
        result["recall@10 vs exact"] = recall(engine, all_dense, recall_queries)
    engine.close()
    if not in_memory:
        start = time.perf_counter()
        reopened = open_engine(name, folder, False)
        reopened.run("bench", Count())
        result["reopen_s"] = time.perf_counter() - start
        reopened.close()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def recall(engine, all_dense: np.ndarray, queries: np.ndarray) -> float:
    """Mean share of the exact top 10 (numpy, cosine) that the engine's dense search returns."""
    exact = np.argsort(-(all_dense @ queries.T), axis=0)[:10].T
    req = resolve(SearchRequest(k=10, mode="dense", rerank=False), KINDS)
    shares = []
    for q, row in zip(queries, exact):
        truth = {f"00000000-0000-0000-0000-{j:012d}" for j in row}
        found = {f.id for f in engine.run("bench", Query(build_plan(req, {"dense": q.tolist()}, NAMES, None)))}
        shares.append(len(truth & found) / 10)
    return float(np.mean(shares))


def table(rows: list[dict]) -> str:
    keys = [k for k in rows[0] if k not in ("engine", "points")]
    lines = ["| engine | points | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for r in rows:
        cells = [f"{r[k]:.3g}" if isinstance(r.get(k), float) else str(r.get(k, "-")) for k in keys]
        lines.append(f"| {r['engine']} | {r['points']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--queries", type=int, default=20)
    p.add_argument("--one", nargs=2, metavar=("ENGINE", "SIZE"))
    p.add_argument("--memory", action="store_true")
    p.add_argument("--real", action="store_true", help="real dense embeddings (real_vectors.py)")
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.queries, args.memory, args.real)))
        return
    rows = []
    for size in map(int, args.sizes.split(",")):
        for name in ("edge", "local"):
            # local mode on disk commits one SQLite row per point: past 10k points it runs in memory
            memory = name == "local" and size > 10_000
            cmd = [sys.executable, __file__, "--one", name, str(size), "--queries", str(args.queries)]
            cmd += (["--memory"] if memory else []) + (["--real"] if args.real else [])
            out = subprocess.run(cmd, check=True,
                                 capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "engines.json").write_text(json.dumps(rows, indent=2))
    (OUT / "engines.md").write_text(table(rows) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
