"""What the second-writer checks cost (issue 28, case 1): per search and per add, this tree
against a baseline tree (the code before the checks), on each way of storing a collection.

Each run is a child process with one tree's `src` first on the path; runs alternate between the
two trees (ROUNDS times) and the medians of all their timings are compared. Collections hold N
synthetic points (dense 384 + BM25 sparse, written straight to the engine), searched with the
real models (hybrid, k=10, the query embedded each time) and added to in batches of 8 records.

    python benchmarks/second_writer.py BASELINE_SRC [--points 1000 10000] [--rounds 3] [--out FILE]
    python benchmarks/second_writer.py --child SETUP POINTS SEARCHES ADDS   (one run; prints JSON)

Writes benchmarks/results/second_writer.json with the CPU model and flags.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import procs  # beside this script

ROOT = Path(__file__).resolve().parents[1]
SETUPS = ("edge", "local", "client", "server")  # client: a QdrantClient(":memory:") of your own
TEXTS = ["What does a vaccine do to the immune system?", "rice grown in flooded fields",
         "how interest rates move markets", "volcanic ash and climate"]


def child(setup: str, points: int, searches: int, adds: int) -> dict:
    import numpy as np

    from hybridstore import HybridIndex, Models, Record
    from hybridstore.engine.requests import Write
    from hybridstore.qdrant import payload

    sys.path.insert(0, str(ROOT))  # the fake server is part of the tests package
    from tests.reliability.fake_qdrant import FakeQdrant

    fake = FakeQdrant().__enter__() if setup == "server" else None
    where = {"edge": {"engine": "edge"}, "local": {"engine": "local"},
             "server": {"url": fake.url if fake else None}}.get(setup)
    if setup == "client":
        from qdrant_client import QdrantClient
        where = {"client": QdrantClient(":memory:")}
    index = HybridIndex("bench", Models(), optimize_threshold=None, **where)
    index.create()
    rng = np.random.default_rng(7)
    for start in range(0, points, 1000):
        index.engine.run("bench", Write([payload.Point(
            payload.point_id(str(i)), {"dense": rng.standard_normal(384).astype(np.float32).tolist(),
                                       "sparse": payload.SparseVec([10 + i % 997, 7], [1.0, 0.5])},
            {"page_content": f"p{i}", "metadata": {}, "id": str(i)}) for i in range(start, min(points, start + 1000))]))
    index.search("warm up", 10)
    search_s = []
    for i in range(searches):
        began = time.perf_counter()
        index.search(TEXTS[i % len(TEXTS)], 10)
        search_s.append(time.perf_counter() - began)
    add_s = []
    for i in range(adds):
        batch = [Record(f"a{i}-{j}", f"{TEXTS[j % 4]} ({i}, {j})") for j in range(8)]
        began = time.perf_counter()
        index.add(batch)
        add_s.append(time.perf_counter() - began)
    checks = _checks(index) if hasattr(index.engine, "changes") else {}
    index.close()
    if fake:
        fake.__exit__(None, None, None)
    return {"search_ms": [1000 * s for s in search_s], "add_ms": [1000 * s for s in add_s], **checks}


def _checks(index) -> dict:
    """The I/O of the checks alone (this tree): the count after a search where the engine cannot
    vouch for its collection, and the schema read before a write."""
    from hybridstore.engine.requests import Changes, Count, GetSchema
    from hybridstore.qdrant import filters

    lacking = filters.any_of(filters.lacking_vector("dense"), filters.lacking_vector("sparse"))
    out = {}
    for name, request in {"changes": Changes(), "count lacking": Count(lacking), "get schema": GetSchema()}.items():
        took = []
        for _ in range(10):
            began = time.perf_counter()
            index.engine.run("bench", request)
            took.append(time.perf_counter() - began)
        out[f"{name} ms"] = [1000 * statistics.median(took)]
    return out


def run(src: str, setup: str, points: int, searches: int, adds: int) -> dict:
    env = {**os.environ, "PYTHONPATH": src, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, __file__, "--child", setup, str(points), str(searches), str(adds)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("baseline", nargs="?")
    ap.add_argument("--child", nargs=4)
    ap.add_argument("--points", nargs="+", type=int, default=[1000, 10000])
    ap.add_argument("--setups", nargs="+", default=list(SETUPS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--searches", type=int, default=30)
    ap.add_argument("--adds", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "second_writer.json"))
    args = ap.parse_args()
    if args.child:
        setup, points, searches, adds = args.child
        print(json.dumps(child(setup, int(points), int(searches), int(adds))))
        return
    trees = {"baseline": args.baseline, "checked": str(ROOT / "src")}
    rows = []
    for setup in args.setups:
        for points in args.points:
            if setup == "server" and points > 1000:
                continue  # the fake server scans in Python: its figures at 10k say nothing of Qdrant's
            times = {t: {"search_ms": [], "add_ms": []} for t in trees}
            for _ in range(args.rounds):  # alternating: drift on a shared machine hits both alike
                for tree, src in trees.items():
                    for k, v in run(src, setup, points, args.searches, args.adds).items():
                        times[tree].setdefault(k, []).extend(v)
            row = {"setup": setup, "points": points}
            for k in ("search_ms", "add_ms"):
                base, new = (statistics.median(times[t][k]) for t in trees)
                row |= {f"{k} baseline p50": round(base, 3), f"{k} checked p50": round(new, 3),
                        f"{k} ratio": round(new / base, 3)}
            row |= {k: round(statistics.median(v), 4) for k, v in times["checked"].items() if k.endswith(" ms")}
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {"cpu": procs.cpu(), "rounds": args.rounds, "searches_per_run": args.searches,
              "adds_per_run (8 records each)": args.adds, "rows": rows}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
