"""Pages as images at scale (docs/images.md, "Pages as images"): N pages of constructed vectors
with ColPali's real shape on Qdrant Edge, stored as the library stores them, searched as it
searches them.

Each page is `1030 x 128` patch vectors (ColPali: 1024 image patches and 6 text tokens), each
query `20 x 128` token vectors. No model runs: the vectors are constructed, with structure the
pooled prefetch can use (random unit vectors would all pool to nearly the same mean). A page is
about 4 of 256 topic directions: each patch is one of them plus noise as large, made unit.
A query is 20 of one page's patches, each with that much noise again, made unit: that page
is the one to find. The page vectors go through the library's own code: the collection schema
(`pages`: MaxSim multivector, no HNSW graph, on disk, float16; `pages_pooled`: the mean of the
unit patch vectors, `inference.pages.pooled`, with an HNSW graph), `Write` of float32 arrays as
ingest passes them, and the search plans of `qdrant.query` run by the engine.

Measured: disk bytes per page (after the graph build), ingest pages/s (writes; the build apart),
query p50 / p95 at k=10 with the pooled prefetch (mode="pages": at least 100 candidates, then
MaxSim) and without it (MaxSim over every page: the multivector has no graph, so a full scan),
each cold (the folder's pages evicted from the page cache first) and warm, and how often each
finds the query's page in its top 10 and how far the two top 10s agree. The machine is recorded.

Usage: python benchmarks/pages.py [--pages 10000] [--queries 50] [--full-queries 20]
writes benchmarks/results/pages.json. A seconds-long run: --pages 20 --queries 3 --full-queries 2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from procs import cpu
from sizing import disk_bytes, evict

from hybridstore.engine import EdgeEngine
from hybridstore.engine.requests import Create, Optimize, Query, Write
from hybridstore.inference.pages import pooled
from hybridstore.qdrant.payload import Point
from hybridstore.qdrant.query import Nearest, QueryPlan, SearchRequest, build_plan, resolve
from hybridstore.qdrant.schema import DEFAULT_NAMES, PAGES, POOLED, build_schema
from hybridstore.qdrant.storage import Storage

HERE = Path(__file__).resolve().parent
PATCHES, TOKENS, DIM = 1030, 20, 128
TOPICS, PER_PAGE = 256, 4
BATCH = 32  # pages per write: about 17 MB of float32 patch vectors
K = 10


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


class Pages:
    """The constructed pages, each made again from its number (queries are made from them)."""

    def __init__(self) -> None:
        self.topics = unit(np.random.default_rng(0).normal(size=(TOPICS, DIM)))

    def page(self, i: int) -> np.ndarray:
        rng = np.random.default_rng(i + 1)
        centres = self.topics[rng.choice(TOPICS, PER_PAGE, replace=False)][rng.integers(0, PER_PAGE, PATCHES)]
        return unit(centres + rng.normal(size=(PATCHES, DIM)) / np.sqrt(DIM))

    def query(self, i: int, rng: np.random.Generator) -> np.ndarray:
        patches = self.page(i)[rng.choice(PATCHES, TOKENS, replace=False)]
        return unit(patches + rng.normal(size=(TOKENS, DIM)) / np.sqrt(DIM))


def pid(i: int) -> str:
    return f"00000000-0000-0000-0000-{i:012d}"


def percentiles(took: list[float]) -> dict[str, float]:
    ms = np.asarray(took) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "queries": len(took)}


def ingest(engine: EdgeEngine, pages: Pages, n: int) -> float:
    """Seconds the writes took (the vectors are made outside the timing)."""
    took = 0.0
    for lo in range(0, n, BATCH):
        batch = [pages.page(i) for i in range(lo, min(lo + BATCH, n))]
        points = [Point(pid(lo + j), {DEFAULT_NAMES[PAGES]: v, DEFAULT_NAMES[POOLED]: pooled(v)},
                        {"page_content": ""}) for j, v in enumerate(batch)]
        start = time.perf_counter()
        engine.run("pages", Write(points))
        took += time.perf_counter() - start
    return took


def plans(q: np.ndarray) -> dict[str, QueryPlan]:
    """The library's pages search, and MaxSim over every page (the same vector, no prefetch)."""
    req = resolve(SearchRequest(k=K, mode="pages"), {PAGES})
    prefetched = build_plan(req, {PAGES: q, POOLED: pooled(q)}, DEFAULT_NAMES, storage=Storage())
    full = QueryPlan(Nearest(PAGES, DEFAULT_NAMES[PAGES], q, K), K)
    return {"pooled prefetch + MaxSim": prefetched, "MaxSim over every page": full}


def search(engine: EdgeEngine, pages: Pages, n: int, queries: int, full_queries: int) -> dict[str, object]:
    out: dict[str, object] = {}
    found: dict[str, list[list[str]]] = {}
    for rnd in ("cold (pages evicted)", "warm"):
        rng = np.random.default_rng(7)  # the same queries both rounds
        targets = rng.integers(0, n, queries)
        took: dict[str, list[float]] = {}
        for q_no, target in enumerate(targets):
            for name, plan in plans(pages.query(int(target), rng)).items():
                if name.startswith("MaxSim over") and q_no >= full_queries:
                    continue
                start = time.perf_counter()
                hits = engine.run("pages", Query(plan))
                took.setdefault(name, []).append(time.perf_counter() - start)
                found.setdefault(name, []).append([h.id for h in hits])
        out[rnd] = {name: percentiles(t) for name, t in took.items()}
    targets = [pid(int(t)) for t in np.random.default_rng(7).integers(0, n, queries)]
    for name, lists in found.items():
        mine = lists[: len(lists) // 2]  # one round's
        out[f"{name}: query's page in the top {K}"] = sum(t in ids for t, ids in zip(targets, mine)) / len(mine)
    full, prefetched = found["MaxSim over every page"], found["pooled prefetch + MaxSim"]
    out[f"top {K} shared with MaxSim over every page"] = float(np.mean(
        [len(set(a) & set(b)) / K for a, b in zip(full[: len(full) // 2], prefetched)]))
    return out


def main(n: int = 10_000, queries: int = 50, full_queries: int = 20,
         out: Path = HERE / "results" / "pages.json") -> dict[str, object]:
    pages, work = Pages(), Path(tempfile.mkdtemp(prefix="pages-"))
    schema = build_schema({PAGES: DIM, POOLED: DIM}, {}, DEFAULT_NAMES)
    result: dict[str, object] = {"machine": cpu(), "pages": n, "patches per page": PATCHES, "query tokens": TOKENS,
                                 "dim": DIM, "k": K}
    try:
        engine = EdgeEngine(path=str(work))
        engine.run("pages", Create(schema, storage=Storage()))
        write_s = ingest(engine, pages, n)
        start = time.perf_counter()
        engine.run("pages", Optimize())
        result.update({"ingest_pages_per_s": n / write_s, "write_s": write_s,
                       "optimize_s": time.perf_counter() - start})
        engine.close()
        disk = disk_bytes(work)
        result.update({"disk_bytes": disk, "disk_bytes_per_page": disk / n,
                       "float16 patch bytes per page": PATCHES * DIM * 2})
        evict(work)
        engine = EdgeEngine(path=str(work))
        result["search"] = search(engine, pages, n, queries, min(full_queries, queries))
        engine.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pages", type=int, default=10_000)
    p.add_argument("--queries", type=int, default=50)
    p.add_argument("--full-queries", type=int, default=20, help="of them, also searched without the prefetch")
    p.add_argument("--out", type=Path, default=HERE / "results" / "pages.json")
    args = p.parse_args()
    print(json.dumps(main(args.pages, args.queries, args.full_queries, args.out), indent=2))
