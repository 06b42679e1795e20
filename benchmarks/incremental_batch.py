"""Incremental indexing and batch search, side by side in one run on SciFact with the pack's models:

- first ingest vs re-ingesting the unchanged corpus (content hashes skip the embedding);
- first ingest vs re-ingesting it with one metadata key changed on every record (the vectors
  depend on the text alone: a payload update, no embedding);
- batch search (one embedding batch per model, one engine request) vs a loop of searches.

Usage: python benchmarks/incremental_batch.py [DOCS] [QUERIES]; writes
benchmarks/results/incremental_batch.json.
"""

import json
import sys
import time
from pathlib import Path

from hybridstore import HybridIndex, Models, Record, beir

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact"


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(docs: int = 500, queries: int = 100) -> dict:
    records = list(beir.corpus_records(SCIFACT))[:docs]
    texts = list(beir.queries(SCIFACT).values())[:queries]
    index = HybridIndex("bench", Models())
    first = timed(lambda: index.add(records))
    again = timed(lambda: index.add(records))
    assert index.stats == {"embedded": 0, "unchanged": docs, "payload_only": 0}
    tagged = [Record(r.id, r.text, {**r.metadata, "reviewed": True}, r.doc_id) for r in records]
    relabel = timed(lambda: index.add(tagged))
    assert index.stats == {"embedded": 0, "unchanged": 0, "payload_only": docs}
    index.search("warm up", 1)
    loop, batch = [], []
    for _ in range(2):  # interleaved, best of two each
        loop.append(timed(lambda: [index.search(t, 10) for t in texts]))
        batch.append(timed(lambda: index.search_batch(texts, 10)))
    result = {
        "docs": docs, "first_ingest_s": first, "unchanged_reingest_s": again,
        "reingest_fraction": again / first, "metadata_change_reingest_s": relabel,
        "metadata_change_fraction": relabel / first,
        "queries": queries, "loop_queries_per_s": queries / min(loop),
        "batch_queries_per_s": queries / min(batch), "batch_speedup": min(loop) / min(batch),
    }
    out = ROOT / "benchmarks" / "results" / "incremental_batch.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
