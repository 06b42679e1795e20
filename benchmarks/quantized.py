"""float32 vs int8 dense model (the pack's MiniLM), side by side in one run on SciFact: ingest
docs/s and peak RSS (dense + BM25, the default models), query embedding p50, and nDCG@10 /
Recall@100 of dense and hybrid search with each.

Each model runs in its own process (peak RSS is a process's own); the int8 copy is made before
its timed ingest (`quantize.quantized`), so the ingest times compare inference, not the
one-off quantization (made first, timed apart; found in the cache after). Rounds alternate float32 and int8.

Usage: python benchmarks/quantized.py [--limit N] [--max-queries N] [--rounds N];
writes benchmarks/results/quantized.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

from procs import alternate, scifact_ingested, subset_parser

HERE = Path(__file__).resolve().parent
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MODES = ("hybrid", "dense")


def one(quantize: str | None, limit: int | None, max_queries: int | None) -> dict:
    """One model's figures, in this process."""
    from hybridstore import Models, ModelSpec, beir

    spec = ModelSpec(MINILM, "dense", options={"quantize": quantize} if quantize else {})
    models = Models(dense=spec)
    start = time.perf_counter()
    models.load()
    load_s = time.perf_counter() - start  # int8: the quantized copy made (or found) and loaded
    got = scifact_ingested(models, limit, max_queries)
    index, queries, qrels, qids = got["index"], got["queries"], got["qrels"], got["qids"]
    ingest_s, rss_ingest, n_docs = got["ingest_s"], got["rss_ingest_mb"], got["docs"]
    embed_ms = []
    for q in qids:
        t = time.perf_counter()
        models.dense.embed_query(queries[q])
        embed_ms.append(1000 * (time.perf_counter() - t))
    result = {"quantize": quantize or "float32", "docs": n_docs, "queries": len(qids),
              "load_s": load_s, "ingest_s": ingest_s, "ingest_docs_per_s": n_docs / ingest_s,
              "peak_rss_mb_ingest": rss_ingest, "query_embed_p50_ms": statistics.median(embed_ms),
              "modes": {}}
    for mode in MODES:
        ndcg, recall, took = [], [], []
        for q in qids:
            t = time.perf_counter()
            ranked = [h.record.id for h in index.search(queries[q], 100, mode=mode)]
            took.append(1000 * (time.perf_counter() - t))
            ndcg.append(beir.ndcg_at(ranked, qrels[q], 10))
            recall.append(beir.recall_at(ranked, qrels[q], 100))
        result["modes"][mode] = {"ndcg@10": beir.mean(ndcg), "recall@100": beir.mean(recall),
                                 "p50_ms": statistics.median(took)}
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main(limit: int | None = None, max_queries: int | None = None, rounds: int = 1,
         out: Path = HERE / "results" / "quantized.json") -> dict:
    from hybridstore.inference import quantize

    start = time.perf_counter()  # made once, before the timed runs (or found in the cache)
    quantize.quantized(HERE.parent.parent / "shared" / "models" / "all-minilm-l6-v2", "model.onnx", MINILM)
    quantize_s = time.perf_counter() - start
    args = [*(["--limit", str(limit)] if limit is not None else []),
            *(["--max-queries", str(max_queries)] if max_queries is not None else [])]
    runs = alternate(__file__, ["float32", "int8"], args, rounds)
    best = {n: max(r, key=lambda x: x["ingest_docs_per_s"]) for n, r in runs.items()}
    f, q = best["float32"], best["int8"]
    result = {"quantize_s (once, cached after)": quantize_s, "runs": runs, "ratios (int8 / float32)": {
        "ingest_docs_per_s": q["ingest_docs_per_s"] / f["ingest_docs_per_s"],
        "peak_rss_mb": q["peak_rss_mb"] / f["peak_rss_mb"],
        "query_embed_p50_ms": q["query_embed_p50_ms"] / f["query_embed_p50_ms"],
        **{f"{m} p50_ms": q["modes"][m]["p50_ms"] / f["modes"][m]["p50_ms"] for m in MODES}},
        "quality difference (int8 - float32)": {
            f"{m} {k}": q["modes"][m][k] - f["modes"][m][k] for m in MODES for k in ("ndcg@10", "recall@100")}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    return result


if __name__ == "__main__":
    p = subset_parser()
    p.add_argument("--one", choices=["float32", "int8"], help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(None if a.one == "float32" else a.one, a.limit, a.max_queries)))
    else:
        main(a.limit, a.max_queries, a.rounds)
