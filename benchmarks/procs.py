"""Each setting of a benchmark in its own process (peak RSS is a process's own), rounds
alternating the settings so that drift hits them alike."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def alternate(script: str, names: list[str], args: list[str], rounds: int = 1) -> dict[str, list[dict]]:
    """`script --one NAME *args` for every name, `rounds` times; each prints its figures as
    JSON on its last line."""
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            proc = subprocess.run([sys.executable, script, "--one", name, *args], capture_output=True,
                                  text=True, cwd=Path(script).parent)
            if proc.returncode:
                raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
            runs[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[name][-1]), flush=True)
    return runs


def scifact_ingested(models: object, limit: int | None, max_queries: int | None) -> dict:
    """An index of SciFact (the judged documents of the first `max_queries` queries, then
    `limit` others; everything when `limit` is None), built and optimized: the index, the
    queries and qrels, the chosen query ids, ingest seconds and peak RSS MB after ingest."""
    import resource
    import time

    from hybridstore import HybridIndex, beir

    scifact = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "scifact"
    records = list(beir.corpus_records(scifact))
    qrels = beir.qrels(scifact)
    queries = {q: t for q, t in beir.queries(scifact).items() if q in qrels}
    qids = sorted(queries)[:max_queries]
    if limit is not None:  # the judged documents of the chosen queries, then others
        judged = {d for q in qids for d in qrels[q]}
        records = [r for r in records if r.id in judged] + [r for r in records if r.id not in judged][:limit]
    index = HybridIndex("bench", models)
    start = time.perf_counter()
    index.add(records)
    ingest_s = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    index.optimize()
    return {"index": index, "queries": queries, "qrels": qrels, "qids": qids, "docs": len(records),
            "ingest_s": ingest_s, "rss_ingest_mb": rss}


def subset_parser() -> argparse.ArgumentParser:
    """The options of a SciFact-subset benchmark run in rounds."""
    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, default=None, help="unjudged documents beside the judged ones")
    p.add_argument("--max-queries", type=int, default=None)
    p.add_argument("--rounds", type=int, default=1)
    return p


def time_engine(index: Any) -> list[float]:
    """Milliseconds of each engine query call from now on: the search without query embedding
    or the library's own work (plan, records)."""
    from hybridstore.engine.requests import Query

    times: list[float] = []
    run = index.engine.run

    def timed(collection: str, request: Any) -> Any:
        start = time.perf_counter()
        try:
            return run(collection, request)
        finally:
            if isinstance(request, Query):
                times.append(1000 * (time.perf_counter() - start))

    index.engine.run = timed
    return times


def cpu() -> dict:
    """The machine a result was measured on: CPU model, its SIMD flags, cores, Python."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    field = lambda k: next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(k)), "")
    flags = [f for f in field("flags").split() if f.startswith(("avx", "sse4", "fma", "f16c"))]
    return {"model": field("model name") or platform.processor(), "flags": flags,
            "cpus": os.cpu_count(), "python": platform.python_version()}
