"""How deep each source of a hybrid search is fetched before fusion: quality against latency on
SciFact, side by side in one run. Each source (dense, BM25) fetches `k * oversample` candidates
(at least `k`); DBSF fuses them in the engine.

Document embeddings come from the frameworks benchmark's cache (frameworks.prepare); queries
are embedded once, outside the timings, so the figures are the engine's (plus the core's).

Usage: python benchmarks/prefetch.py [--limit N] [--max-queries N] [--out FILE]; writes benchmarks/results/prefetch.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from hybridstore import HybridIndex, Models, Record, beir

HERE = Path(__file__).resolve().parent
OVERSAMPLE = (1, 2, 4)
KS = (10, 100)


def main(limit: int | None = None, max_queries: int | None = None,
         out: Path = HERE / "results" / "prefetch.json") -> dict:
    from frameworks import corpus, prepare, serve_cached_documents, test_queries

    prepare(limit, max_queries, False)
    ids, texts = corpus(limit, max_queries)
    serve_cached_documents(texts)
    models = Models()
    index = HybridIndex("prefetch", models)
    index.add([Record(i, t, doc_id=i) for i, t in zip(ids, texts)])
    index.optimize()
    queries, qrels = test_queries(max_queries)
    dense = {q: models.dense.embed_query(t) for q, t in queries.items()}
    result: dict = {"docs": len(ids), "queries": len(queries), "runs": {}}
    for _ in range(2):  # interleaved rounds; the faster of each kept
        for oversample in OVERSAMPLE:
            for k in KS:
                took, ndcg, recall = [], [], []
                for q, text in queries.items():
                    t = time.perf_counter()
                    hits = index.search(text, k, dense_vector=dense[q], oversample=oversample)
                    took.append(1000 * (time.perf_counter() - t))
                    ranked = [h.record.id for h in hits]
                    ndcg.append(beir.ndcg_at(ranked, qrels[q], 10))
                    recall.append(beir.recall_at(ranked, qrels[q], 100))
                key = f"oversample {oversample}, k={k}"
                row = {"ndcg@10": beir.mean(ndcg), "recall@100": beir.mean(recall),
                       "p50_ms (sparse query embedding included)": statistics.median(took)}
                old = result["runs"].get(key)
                if old is None or row["p50_ms (sparse query embedding included)"] < old["p50_ms (sparse query embedding included)"]:
                    result["runs"][key] = row
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for key, row in result["runs"].items():
        print(f"{key:<22} nDCG@10 {row['ndcg@10']:.4f}  Recall@100 {row['recall@100']:.4f}  "
              f"p50 {row['p50_ms (sparse query embedding included)']:.2f} ms")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--max-queries", type=int, default=None)
    p.add_argument("--out", type=Path, default=HERE / "results" / "prefetch.json")
    a = p.parse_args()
    main(a.limit, a.max_queries, a.out)
