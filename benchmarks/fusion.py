"""Which hybrid fusion should be the default? RRF (Qdrant's k=2, and the literature's k=60)
against DBSF, for dense all-MiniLM-L6-v2 paired with each sparse model of the pack, on SciFact.

Each fusion is scored per query; differences to RRF k=2 get a paired bootstrap 95% interval
(10,000 resamples of the 300 queries, fixed seed) and a win/loss count, so one dataset's noise
is visible rather than hidden in a mean. Dense document embeddings come from frameworks.py's
cache when present (same model, same texts); sparse ones are computed live.

Usage: python benchmarks/fusion.py [SPARSE_MODEL ...]; writes benchmarks/results/fusion.json and
fusion.md after every model. The default is BM25 and BM42: embedding the corpus with the pack's
SPLADE takes over 15 minutes on 2 cores (name it to include it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import frameworks

from hybridstore import HybridIndex, Models, beir

SPARSE = ["Qdrant/bm25", "Qdrant/bm42-all-minilm-l6-v2-attentions"]
FUSIONS = {"rrf k=2": {"fusion": "rrf"}, "rrf k=60": {"fusion": "rrf", "rrf_k": 60},
           "dbsf": {"fusion": "dbsf"}}
BASELINE = "rrf k=2"


def per_query(index: HybridIndex, queries: dict[str, str], qrels: dict, options: dict) -> np.ndarray:
    qids = sorted(queries)
    hits = index.search_batch([queries[q] for q in qids], 100, mode="hybrid", rerank=False, **options)
    return np.array([beir.ndcg_at([h.record.id for h in found], qrels[q], 10)
                     for q, found in zip(qids, hits)])


def paired_interval(diff: np.ndarray, rounds: int = 10_000) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    means = diff[rng.integers(0, len(diff), (rounds, len(diff)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main(sparse_models: list[str]) -> None:
    _, texts = frameworks.corpus()
    frameworks.serve_cached_documents(texts)
    records = list(beir.corpus_records(frameworks.SCIFACT))
    queries, qrels = frameworks.test_queries(None)
    rows = []
    for sparse in sparse_models:
        index = HybridIndex("fusion", Models(sparse=sparse))
        index.add(records)
        scores = {name: per_query(index, queries, qrels, options) for name, options in FUSIONS.items()}
        index.close()
        for name, s in scores.items():
            diff = s - scores[BASELINE]
            low, high = paired_interval(diff)
            rows.append({"sparse": sparse, "fusion": name, "ndcg@10": float(s.mean()),
                         "diff vs rrf k=2": float(diff.mean()), "ci95": [low, high],
                         "wins": int((diff > 0).sum()), "losses": int((diff < 0).sum())})
            print(json.dumps(rows[-1]), flush=True)
        report(rows)


def report(rows: list[dict]) -> None:
    (HERE / "results" / "fusion.json").write_text(json.dumps(rows, indent=2))
    lines = ["| sparse model | fusion | nDCG@10 | vs RRF k=2 | paired 95% interval | queries better / worse |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['sparse']} | {r['fusion']} | {r['ndcg@10']:.4f} | {r['diff vs rrf k=2']:+.4f} | "
              f"[{r['ci95'][0]:+.4f}, {r['ci95'][1]:+.4f}] | {r['wins']} / {r['losses']} |" for r in rows]
    (HERE / "results" / "fusion.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:] or SPARSE)
