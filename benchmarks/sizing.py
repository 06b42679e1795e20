"""Bytes per point, in memory and on disk, for each storage setting (docs/scaling.md's table).

Each setting runs in its own process on Qdrant Edge: `--points` points with a 384-d dense
vector (clustered unit vectors, like MiniLM's), a BM25-like sparse vector (`--terms` terms
of a 30k vocabulary, Zipf-distributed) and a payload of realistic size (the first `--text`
characters of a SciFact abstract, a doc id, three metadata keys); optionally a late-interaction multivector of
`--tokens` 384-d token vectors. Dense vectors: see `embeddings_like`. After writing and optimize(), the process reopens the folder
(its pages evicted from the page cache first: a cold start) and runs `--queries` hybrid
searches; reported: disk bytes per point (allocated, less an empty
collection's), memory per point after reopen + searches: the process's own (RssAnon, what it
must hold) and mapped file pages (RssFile, what the page cache keeps while there is room),
peak RSS while writing and optimizing, and dense recall@10 against exact search.

Usage: python benchmarks/sizing.py [--points N,M] [--tokens T] [--settings default,large,...];
writes benchmarks/results/sizing.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from procs import alternate

HERE = Path(__file__).resolve().parent
SCIFACT = HERE.parent.parent / "shared" / "datasets" / "scifact"
DIM = 384
SETTINGS = {
    "default": {},
    "int8": {"quantize": "int8"},
    "on_disk": {"on_disk": True, "payload_on_disk": True},
    "float16": {"float16": True},
    "large": "large",
}


def rss_mb(kind: str = "VmRSS") -> float:
    """Resident MB: VmRSS all, RssAnon the process's own memory, RssFile mapped file pages
    (the page cache can drop those: memory-mapped storage)."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(kind + ":")) / 1024


def evict(folder: Path) -> None:
    """Drop the folder's pages from the page cache, as after a reboot or under memory pressure:
    what a reopened collection then holds is what it loads or touches, not what writing left."""
    for f in folder.rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_blocks * 512 for f in folder.rglob("*") if f.is_file())  # allocated, not sparse size


def data(n: int, terms: int, text: int, seed: int = 1) -> tuple[np.ndarray, list, list]:
    rng = np.random.default_rng(seed)
    dense = embeddings_like(rng, n)
    ranks = np.minimum(rng.zipf(1.2, size=(n, terms)), 30_000) - 1
    sparse = [(np.unique(r).tolist(), rng.uniform(0.5, 3.0, len(np.unique(r))).tolist()) for r in ranks]
    abstracts = [json.loads(line)["text"] for line in open(SCIFACT / "corpus.jsonl", encoding="utf-8")]
    payloads = [{"text": abstracts[i % len(abstracts)][:text], "doc_id": f"doc-{i // 8}",
                 "metadata": {"source": f"file-{i // 8}.md", "year": int(2000 + i % 25), "tags": ["a", "b"]}}
                for i in range(n)]
    return dense, sparse, payloads


def embeddings_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit vectors shaped like sentence embeddings: topics (clusters) in a 48-dimensional
    latent space mapped into 384 dimensions, a little isotropic noise and a shared direction.
    Checked against the pack's MiniLM on SciFact's 5,183 abstracts: nearest-neighbour cosine
    0.69 there, unrelated pairs (median) 0.16, the 90th percentile 0.32; see docs/scaling.md for
    these vectors' figures. Uniform random vectors have no neighbours to find."""
    basis = np.random.default_rng(0).normal(size=(48, DIM))  # the same space for every size
    topics = np.random.default_rng(1).normal(size=(2048, 48))
    common = np.random.default_rng(2).normal(size=DIM)  # a shared direction: real embeddings are
    common /= np.linalg.norm(common)                     # anisotropic (unrelated texts: cosine ~0.15)
    latent = topics[rng.integers(0, len(topics), n)] + 0.9 * rng.normal(size=(n, 48))
    v = latent @ basis + 0.15 * np.sqrt(48) * rng.normal(size=(n, DIM))
    v = v / np.linalg.norm(v, axis=1, keepdims=True) + 0.45 * common
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def one(name: str, n: int, terms: int, text: int, late_tokens: int, queries: int) -> dict:
    import qdrant_edge as edge

    from hybridstore.engine.edge_config import config
    from hybridstore.qdrant.schema import Schema, VectorField
    from hybridstore.qdrant.storage import Storage

    storage = Storage.of(SETTINGS[name] if isinstance(SETTINGS[name], str) else dict(SETTINGS[name]))
    fields = [VectorField("dense", "dense", DIM), VectorField("sparse", "sparse", None, modifier="idf")]
    if late_tokens:
        fields.append(VectorField("late", "late_interaction", DIM))
    base = rss_mb()
    dense, sparse, payloads = data(n, terms, text)
    rng = np.random.default_rng(2)
    folder = Path(tempfile.mkdtemp(prefix=f"sizing-{name}-"))
    data_mb = rss_mb() - base
    edge.EdgeShard.create(str(folder / "empty"), config(Schema(tuple(fields)), storage)).close()
    empty = disk_bytes(folder / "empty")  # WAL and segment files allocated up front
    shutil.rmtree(folder / "empty")
    shard = edge.EdgeShard.create(str(folder), config(Schema(tuple(fields)), storage))
    start = time.perf_counter()
    for lo in range(0, n, 512):
        pts = []
        for i in range(lo, min(n, lo + 512)):
            vec = {"dense": dense[i].tolist(), "sparse": edge.SparseVector(*sparse[i])}
            if late_tokens:
                late = rng.normal(size=(late_tokens, DIM)).astype(np.float32)
                vec["late"] = (late / np.linalg.norm(late, axis=1, keepdims=True)).tolist()
            pts.append(edge.Point(i, vec, payloads[i]))
        shard.update(edge.UpdateOperation.upsert_points(pts))
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    shard.optimize()
    optimize_s = time.perf_counter() - start
    shard.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    disk = disk_bytes(folder) - empty
    qs = dense[rng.integers(0, n, queries)] + 0.5 * embeddings_like(rng, queries)  # near a point, not on it
    qs = (qs / np.linalg.norm(qs, axis=1, keepdims=True)).astype(np.float32)
    exact = np.argsort(-(qs @ dense.T), axis=1)[:, :10]
    del dense, sparse, payloads
    evict(folder)
    before = {k: rss_mb(k) for k in ("RssAnon", "RssFile")}
    start = time.perf_counter()
    shard = edge.EdgeShard.load(str(folder))
    reopen_s = time.perf_counter() - start
    params = edge.SearchParams(hnsw_ef=128, quantization=edge.QuantizationSearchParams(
        rescore=True, oversampling=storage.oversampling) if storage.quantize else None)
    hits, took = [], []
    for q in qs:
        t = time.perf_counter()
        found = shard.query(edge.QueryRequest(
            prefetches=[edge.Prefetch(query=edge.Query.Nearest(q.tolist(), using="dense"), limit=40,
                                      params=params),
                        edge.Prefetch(query=edge.Query.Nearest(edge.SparseVector([1, 5, 9], [1.0, 1.0, 1.0]),
                                                               using="sparse"), limit=40)],
            query=edge.Fusion.Dbsf(), limit=10, with_payload=True))
        took.append(1000 * (time.perf_counter() - t))
        dense_hits = shard.query(edge.QueryRequest(query=edge.Query.Nearest(q.tolist(), using="dense"),
                                                   limit=10, params=params))
        hits.append({int(p.id) for p in dense_hits})
        del found
    held = {k: rss_mb(k) - v for k, v in before.items()}
    shard.close()
    shutil.rmtree(folder)
    recall = float(np.mean([len(h & set(e.tolist())) / 10 for h, e in zip(hits, exact)]))
    return {"setting": name, "storage": storage.stored(), "points": n, "late_tokens": late_tokens,
            "disk_bytes_per_point": disk / n, "empty_collection_disk_mb": empty / 2**20,
            "held_bytes_per_point": held["RssAnon"] * 2**20 / n,
            "mapped_bytes_per_point": held["RssFile"] * 2**20 / n,
            "peak_rss_mb": peak, "input_data_mb": data_mb, "write_s": write_s, "optimize_s": optimize_s,
            "reopen_s": reopen_s, "hybrid_p50_ms": float(np.median(took)), "dense_recall@10": recall}


def main(points: tuple[int, ...] = (20_000, 100_000), settings: list[str] | None = None, terms: int = 60,
         text: int = 1000, late_tokens: int = 0, queries: int = 200,
         out: Path = HERE / "results" / "sizing.json") -> dict:
    """Every setting at every size; with two sizes or more, the cost of one more point is the
    slope between the smallest and the largest (fixed costs cancel)."""
    args = ["--terms", str(terms), "--text", str(text), "--tokens", str(late_tokens), "--queries", str(queries)]
    runs = [r for n in points
            for rs in alternate(__file__, settings or list(SETTINGS), ["--points", str(n), *args]).values()
            for r in rs]
    result: dict = {"runs": runs}
    if len(points) > 1:
        lo, hi = min(points), max(points)
        result["per point (slope from %d to %d points)" % (lo, hi)] = {
            s: {k: (b[k] * hi - a[k] * lo) / (hi - lo) if k.endswith("per_point") else b[k]
                for k in ("disk_bytes_per_point", "held_bytes_per_point", "mapped_bytes_per_point",
                          "peak_rss_mb", "hybrid_p50_ms", "dense_recall@10")}
            for s in dict.fromkeys(r["setting"] for r in runs)
            for a, b in [[next(r for r in runs if r["setting"] == s and r["points"] == n) for n in (lo, hi)]]}
        print(json.dumps(result[next(reversed(result))], indent=2))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--points", default="20000,100000", help="sizes, comma-separated")
    p.add_argument("--terms", type=int, default=60, help="sparse terms drawn per point (before dedup)")
    p.add_argument("--text", type=int, default=1000, help="characters of payload text")
    p.add_argument("--tokens", type=int, default=0, help="late-interaction tokens per point (0: none)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--settings", default=",".join(SETTINGS))
    p.add_argument("--out", type=Path, default=HERE / "results" / "sizing.json")
    p.add_argument("--one", choices=list(SETTINGS), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(a.one, int(a.points), a.terms, a.text, a.tokens, a.queries)))
    else:
        main(tuple(int(n) for n in a.points.split(",")), a.settings.split(","), a.terms, a.text, a.tokens,
             a.queries, a.out)
