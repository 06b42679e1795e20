"""What a snapshot and a restore cost (issue 32): N points on one engine, `index.snapshot` to a
file, then `HybridIndex.restore` of that file into a fresh folder, each timed once, with the
file's size and the machine.

The points are made fast, as in scale.py: short texts of a small vocabulary (their BM25
vectors computed by hybridstore on ingest, as in any add) and constructed dense vectors (seeded
random unit vectors of the pack's MiniLM size, given through `add(dense=...)`: no dense model
runs). A snapshot reads stored vectors, whatever made them, so the cost depends on the number of
points and the vectors' shapes, not on what the texts say.

Usage: python benchmarks/snapshot_cost.py [--points 100000] [--engine edge|local] [--batch 256]
                                          [--out benchmarks/results/snapshot_cost.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from procs import cpu

from hybridstore import HybridIndex, Models, Record

HERE = Path(__file__).resolve().parent
WORDS = ("river", "bridge", "engine", "search", "release", "notes", "guitar", "piano", "market", "rates",
         "volcano", "island", "cats", "dogs", "storage", "backup", "restore", "snapshot", "tenant", "shard",
         "query", "vector", "sparse", "dense", "late", "model")
DIM = 384  # the pack's MiniLM
CHUNK = 2048


def batches(n: int, seed: int = 7):
    """(records, dense vectors) of N points, CHUNK at a time."""
    rng = np.random.default_rng(seed)
    day = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for start in range(0, n, CHUNK):
        ids = range(start, min(n, start + CHUNK))
        words = rng.integers(0, len(WORDS), (len(ids), 12))
        vectors = rng.standard_normal((len(ids), DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        records = [Record(f"p{i}", " ".join(WORDS[w] for w in row),
                          {"n": i, "published": (day - dt.timedelta(hours=i)).isoformat()})
                   for i, row in zip(ids, words, strict=True)]
        yield records, vectors.tolist()


def main(points: int, engine: str = "edge", batch: int = 256, out: Path | None = None,
         work: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        folder, file = Path(tmp), Path(tmp) / "bench.snap"
        with HybridIndex("bench", Models(), path=str(folder / "a"), engine=engine) as index:
            start = time.perf_counter()
            for records, dense in batches(points):
                index.add(records, dense=dense)
            index.optimize()
            ingest_s = time.perf_counter() - start
            start = time.perf_counter()
            taken = index.snapshot(file, batch=batch)
            snapshot_s = time.perf_counter() - start
        start = time.perf_counter()
        restored = HybridIndex.restore(file, "bench", path=str(folder / "b"), engine=engine, batch=batch)
        restore_s = time.perf_counter() - start
    if taken["points"] != points or restored["points"] != points:
        raise SystemExit(f"{points} points made, {taken['points']} in the file, {restored['points']} restored")
    result = {"points": points, "engine": engine, "batch": batch, "file_bytes": taken["bytes"],
              "ingest_s": ingest_s, "snapshot_s": snapshot_s, "restore_s": restore_s,
              "snapshot_points_per_s": points / snapshot_s, "restore_points_per_s": points / restore_s,
              "machine": cpu(), "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", type=int, default=100_000)
    p.add_argument("--engine", choices=("edge", "local"), default="edge")
    p.add_argument("--batch", type=int, default=256, help="points per page of the snapshot and the restore")
    p.add_argument("--out", type=Path, default=HERE / "results" / "snapshot_cost.json")
    p.add_argument("--work", type=Path, default=None, help="where the index folders and the file go (a temporary folder in it)")
    args = p.parse_args()
    if not os.environ.get("HYBRIDSTORE_MODELS"):
        sys.exit("set HYBRIDSTORE_MODELS to the model pack (../shared/models)")
    print(json.dumps(main(args.points, args.engine, args.batch, args.out, args.work), indent=2))
