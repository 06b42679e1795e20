"""Real dense embeddings for the engine benchmark: ~100k SciFact chunks and its 300 queries.

Chunks are every sentence of every SciFact abstract (title first) plus every window of two
neighbouring sentences: 101,645 real texts, embedded with the pack's dense model. The first run
embeds them (minutes on 2 cores) and caches float32 arrays outside the repository, in
$HYBRIDSTORE_BENCH_CACHE (default ~/.cache/hybridstore-bench); later runs load the cache.

Usage: python benchmarks/real_vectors.py  (embeds and caches; engines.py --real loads them)
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path

import numpy as np

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "scifact"
CACHE = Path(os.environ.get("HYBRIDSTORE_BENCH_CACHE", Path.home() / ".cache" / "hybridstore-bench"))
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def abstracts(docs: int | None = None) -> list[tuple[str, list[str]]]:
    """(doc id, sentences) of the first `docs` SciFact abstracts (all when None), title first."""
    out = []
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if docs is not None and len(out) >= docs:
                break
            doc = json.loads(line)
            out.append((doc["_id"], [s for s in SENTENCE_END.split(f"{doc['title']}. {doc['text']}") if s.strip()]))
    return out


def chunks(docs: int | None = None) -> list[str]:
    """Per abstract: its sentences, then its windows of two neighbouring sentences."""
    out = []
    for _, sentences in abstracts(docs):
        out += sentences
        out += [f"{a} {b}" for a, b in itertools.pairwise(sentences)]
    return out


def queries() -> list[str]:
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def load(docs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(chunk vectors, query vectors), unit length; embeds and caches on first use. `docs`:
    the chunks of the first `docs` abstracts only (small runs)."""
    from hybridstore.inference import Models

    models = Models(sparse=None)
    tag = models.dense.spec.name.replace("/", "_") + ("" if docs is None else f"-{docs}docs")
    docs_file, queries_file = CACHE / f"scifact-chunks-{tag}.npy", CACHE / f"scifact-queries-{tag}.npy"
    if not docs_file.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        texts = chunks(docs)
        start = time.perf_counter()
        vectors = np.empty((len(texts), models.dense.dim), dtype=np.float32)
        for i in range(0, len(texts), 8192):
            part = models.embed_documents(texts[i:i + 8192], ["dense"])["dense"]
            vectors[i:i + len(part)] = np.asarray(part, dtype=np.float32)
            print(f"{i + len(part)}/{len(texts)} in {time.perf_counter() - start:.0f} s", flush=True)
        print(f"embedded {len(texts)} chunks in {time.perf_counter() - start:.0f} s", flush=True)
        np.save(docs_file, vectors)
        np.save(queries_file, np.asarray(models.embed_queries(queries(), ["dense"])["dense"], dtype=np.float32))
    docs, qs = np.load(docs_file), np.load(queries_file)
    return docs / np.linalg.norm(docs, axis=1, keepdims=True), qs / np.linalg.norm(qs, axis=1, keepdims=True)


if __name__ == "__main__":
    d, q = load()
    print(f"{d.shape[0]} chunk vectors, {q.shape[0]} query vectors, dim {d.shape[1]} in {CACHE}")
