"""What the edge worker process costs when no build runs, and what it buys during one: this
checkout against another (e.g. main), side by side in one run, rounds alternating. Each round
is a fresh process with on-disk indexes from a caller's dense model (seeded vectors, so no
model time): an index's start-up, search latency (p50/p95) at k=10 and k=100 over POINTS
points, adds of 50; with --build N, an optimize() of N points while a thread ticks every 5 ms
(the process's longest stall) and a search issued 0.5 s into the build (when it was answered,
or its EngineBusyError).

    python benchmarks/worker_cost.py --other /path/to/main/src [--rounds 3] [--points 3000] [--build 20000]
                                       [--out worker_cost.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import procs  # beside this script

DIM = 384


class SeededDense:
    def embed_documents(self, texts):
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text):
        return np.random.default_rng(zlib.crc32(text.encode())).standard_normal(DIM).astype(np.float32).tolist()


def records(n, start=0):
    from hybridstore import Record

    return [Record(f"r{i}", f"text {i} " + "word " * 40, {"i": i}) for i in range(start, start + n)]


def percentiles(times):
    ms = sorted(t * 1000 for t in times)
    return {"p50": round(statistics.median(ms), 3), "p95": round(ms[int(len(ms) * 0.95) - 1], 3)}


def timed(fn, n):
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


def during_build(models, n):
    import threading

    import hybridstore

    busy = getattr(hybridstore, "EngineBusyError", ())  # absent before the worker
    with tempfile.TemporaryDirectory() as folder, \
            hybridstore.HybridIndex("b", models, path=folder, optimize_threshold=None) as index:
        for start in range(0, n, 1000):
            index.add(records(1000, start))
        gaps, stop = [], threading.Event()

        def tick():
            last = time.perf_counter()
            while not stop.wait(0.005):
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticker, build = threading.Thread(target=tick), threading.Thread(target=index.optimize)
        ticker.start()
        start = time.perf_counter()
        build.start()
        time.sleep(0.5)
        a = time.perf_counter()
        try:
            index.search("text 1", k=10, mode="dense")
            outcome = "answered"
        except busy as e:
            outcome = f"{type(e).__name__}: {e}"
        search = {"issued_at_s": round(a - start, 3), "took_s": round(time.perf_counter() - a, 3),
                  "outcome": outcome}
        build.join()
        built = time.perf_counter() - start
        stop.set()
        ticker.join()
    return {"points": n, "build_s": round(built, 2), "longest_stall_ms": round(max(gaps) * 1000, 1),
            "search_during_build": search}


def one_round(points, queries, build):
    from hybridstore import HybridIndex, Models

    models = Models(dense=SeededDense(), sparse=None)
    t = time.perf_counter()
    with HybridIndex("warm", models, location=":memory:") as warm:  # the zygote, once per process
        warm.add(records(1))
    first = time.perf_counter() - t
    starts = []
    for _ in range(5):
        t = time.perf_counter()
        with HybridIndex("s", models, location=":memory:") as index:
            index.add(records(1))
        starts.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as folder, HybridIndex("c", models, path=folder) as index:
        index.add(records(points))
        index.search("text 1", k=10, mode="dense")
        out = {"first_index_s": round(first, 3), "index_start": percentiles(starts)}
        for k in (10, 100):
            out[f"search_k{k}"] = percentiles(timed(lambda i, k=k: index.search(f"text {i}", k=k, mode="dense"),
                                                    queries))
        out["add_50"] = percentiles(timed(lambda i: index.add(records(50, points + 50 * i)), 20))
    if build:
        out["build"] = during_build(models, build)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--other", required=True, help="the src folder of the checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--points", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--build", type=int, default=0, help="points of the build measured (0: none)")
    parser.add_argument("--out", default="worker_cost.json", help="file name under benchmarks/results")
    parser.add_argument("--round", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.round:
        print(json.dumps(one_round(args.points, args.queries, args.build)))
        return
    here = str(Path(__file__).resolve().parents[1] / "src")
    variants = {"this": here, "other": os.path.abspath(args.other)}
    rounds: dict[str, list] = {name: [] for name in variants}
    for r in range(args.rounds):
        for name, src in variants.items():
            env = {**os.environ, "PYTHONPATH": src, "HYBRIDSTORE_ENGINE": "edge"}
            done = subprocess.run([sys.executable, __file__, "--round", "--points", str(args.points),
                                   "--queries", str(args.queries), "--build", str(args.build), "--other", src],
                                  env=env, capture_output=True, text=True, check=True)
            rounds[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(name, r, rounds[name][-1], flush=True)
    result = {"machine": {"cpu": procs.cpu(), "cores": os.cpu_count(), "python": platform.python_version(),
                          "load_average": os.getloadavg(), "note": "shared machine, other jobs running"},
              "points": args.points, "queries": args.queries, "dim": DIM, "build": args.build, "rounds": rounds,
              "other": variants["other"]}
    out = Path(__file__).parent / "results" / args.out
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
