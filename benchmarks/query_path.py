"""The query path after the query embedding: the core's search and both adapters (LangChain
`similarity_search`, a LlamaIndex retriever), hybrid at k=100 and k=10 and sparse at k=100,
on SciFact documents. Dense query vectors are computed first, so that the model's time (most
of a query on these CPUs, and its noisiest part) stays out: what is left is ours and the
frameworks'. Each run is its own process; `--against SRC` alternates every round with another
checkout's `src` folder (e.g. a `git worktree` of an earlier commit) and reports new / old.

Usage: python benchmarks/query_path.py [--docs 1000] [--queries 150] [--rounds 4]
       [--against /tmp/old/src] [--out results/query_path.json]
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

import numpy as np

HERE = Path(__file__).resolve().parent
SCIFACT = HERE.parents[1] / "shared" / "datasets" / "scifact"
CACHE = Path(os.environ.get("HYBRIDSTORE_BENCH_CACHE", Path.home() / ".cache" / "hybridstore-bench"))
CASES = (("hybrid", 100), ("hybrid", 10), ("sparse", 100))


def corpus(docs: int, queries: int) -> tuple[list[str], np.ndarray, list[str]]:
    """The first `docs` SciFact documents with their dense vectors (embedded once, cached) and
    the first `queries` queries."""
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][:docs]
    texts = [f"{r['title']} {r['text']}".strip() for r in rows]
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as fh:
        asked = [json.loads(line)["text"] for line in fh][:queries]
    cached = CACHE / f"query-path-{docs}.npy"
    if not cached.exists():
        from hybridstore import Models

        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(cached, np.asarray(Models(sparse=None).dense.embed_documents(texts), dtype=np.float32))
    return texts, np.load(cached), asked


def measure(docs: int, queries: int) -> dict:
    """p50 ms per (path, mode, k), in this process."""
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import QueryBundle, TextNode

    import hybridstore
    from hybridstore import Models, Record
    from hybridstore.langchain import HybridVectorStore as LangChainStore
    from hybridstore.llama_index import HybridEmbedding, HybridVectorStore

    texts, vectors, asked = corpus(docs, queries)
    models = Models()
    query_vectors = [[float(x) for x in v] for v in models.dense.embed_queries(asked)]
    store = HybridVectorStore("query_path", models)
    nodes = [TextNode(id_=f"00000000-0000-0000-0000-{i:012d}", text=t, embedding=v.tolist())
             for i, (t, v) in enumerate(zip(texts, vectors))]
    index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                             embed_model=HybridEmbedding(models=models))
    langchain = LangChainStore("query_path_langchain", models=models)  # its own index, same data
    langchain.index.add([Record(str(i), t) for i, t in enumerate(texts)], dense=vectors)
    out = {"src": str(Path(hybridstore.__file__).parents[1]), "docs": docs, "queries": len(asked)}
    for mode, k in CASES:
        paths = {
            "core": lambda q, v, k=k, mode=mode: store.index.search(q, k, mode=mode, dense_vector=v,
                                                                    rerank=False),
            "LangChain": lambda q, v, k=k, mode=mode: langchain.similarity_search(q, k, mode=mode, dense_vector=v,
                                                                                  rerank=False),
            "LlamaIndex": lambda q, v, k=k, mode=mode: index.as_retriever(
                similarity_top_k=k, vector_store_query_mode=mode,
                vector_store_kwargs={"rerank": False}).retrieve(QueryBundle(q, embedding=v)),
        }
        for name, search in paths.items():
            for q, v in list(zip(asked, query_vectors))[:10]:
                search(q, v)  # warm
            times = []
            for q, v in zip(asked, query_vectors):
                start = time.perf_counter()
                search(q, v)
                times.append((time.perf_counter() - start) * 1000)
            out[f"{name} {mode} k={k}"] = statistics.median(times)
    store.close()
    langchain.close()
    return out


def run(src: str | None, docs: int, queries: int) -> dict:
    env = {**os.environ, **({"PYTHONPATH": src} if src else {})}
    cmd = [sys.executable, __file__, "--one", "--docs", str(docs), "--queries", str(queries)]
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(docs: int, queries: int, rounds: int, against: str | None, out: Path | None) -> dict:
    corpus(docs, queries)  # embed and cache the documents once, before any timing
    runs: dict[str, list[dict]] = {"this": [], "against": []}
    for _ in range(rounds):
        if against:
            runs["against"].append(run(against, docs, queries))
        runs["this"].append(run(None, docs, queries))
    keys = [k for k in runs["this"][0] if " k=" in k]
    result: dict = {"docs": docs, "queries": queries, "rounds": rounds,
                    "p50_ms (median over rounds)": {k: statistics.median(r[k] for r in runs["this"]) for k in keys},
                    "runs": runs}
    if against:
        old = {k: statistics.median(r[k] for r in runs["against"]) for k in keys}
        result["against"] = against
        result["p50_ms against"] = old
        result["ratio this / against"] = {k: result["p50_ms (median over rounds)"][k] / old[k] for k in keys}
        result["this faster, rounds"] = {k: sum(a[k] > t[k] for a, t in zip(runs["against"], runs["this"]))
                                         for k in keys}
    for k in keys:
        line = f"{k:<24} {result['p50_ms (median over rounds)'][k]:7.2f} ms"
        if against:
            line += f"  against {result['p50_ms against'][k]:7.2f} ms  ratio {result['ratio this / against'][k]:.3f}"
        print(line)
    if out is not None:
        out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, default=1000)
    p.add_argument("--queries", type=int, default=150)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--against", default=None, help="another checkout's src folder")
    p.add_argument("--one", action="store_true", help="one measurement in this process (JSON)")
    p.add_argument("--out", type=Path, default=HERE / "results" / "query_path.json")
    a = p.parse_args()
    if a.one:
        print(json.dumps(measure(a.docs, a.queries)))
    else:
        main(a.docs, a.queries, a.rounds, a.against, a.out)
