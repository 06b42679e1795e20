"""What the "no silent drops" check costs (issue 13), side by side in one run:

- per query: hybrid searches on SciFact with the check and with it switched off, interleaved,
  and the check's own time per call (a cached count per vector: no I/O while nothing lacks);
- per open: counting the points that lack each vector, on an edge collection of N synthetic
  points (dense 384 + sparse), the one I/O the check adds.

Usage: python benchmarks/completeness.py [DOCS] [QUERIES] [POINTS]; writes
benchmarks/results/completeness.json.
"""

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from hybridstore import HybridIndex, Models, beir, collection
from hybridstore.engine.requests import Count, Create, Optimize, Write
from hybridstore.qdrant import filters, payload
from hybridstore.qdrant import query as qplan
from hybridstore.qdrant.schema import build_schema

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact"


def per_query(docs: int, queries: int) -> dict:
    index = HybridIndex("bench", Models())
    index.add(list(beir.corpus_records(SCIFACT))[:docs])
    texts = list(beir.queries(SCIFACT).values())[:queries]
    index.search("warm up", 10)
    check = collection.complete
    times = {"with check": [], "without check": []}
    for _ in range(3):  # interleaved rounds: drift hits both alike
        for label, took in times.items():
            collection.complete = check if label == "with check" else (lambda col, req: iter(()))
            for text in texts:
                start = time.perf_counter()
                index.search(text, 10)
                took.append(time.perf_counter() - start)
    collection.complete = check
    req = qplan.resolve(qplan.SearchRequest(k=10), set(index.models.kinds()))
    start = time.perf_counter()
    for _ in range(100_000):
        for _step in check(index._col, req):  # nothing lacks: no step, no I/O
            pass
    own = (time.perf_counter() - start) / 100_000
    index.close()
    return {"docs": docs, "queries": len(texts) * 3,
            **{f"p50_ms {k}": 1000 * statistics.median(v) for k, v in times.items()},
            "check_us_per_call": 1e6 * own}


def per_open(points: int) -> dict:
    index = HybridIndex("bench", Models())
    engine = index.engine
    engine.run("bench", Create(build_schema({"dense": 384, "sparse": None}, {"sparse": "idf"})))
    rng = np.random.default_rng(13)
    for start in range(0, points, 2000):
        batch = [payload.Point(payload.point_id(str(i)),
                               {"dense": rng.standard_normal(384).astype(np.float32).tolist(),
                                "sparse": payload.SparseVec([int(i % 5000), 7], [1.0, 0.5])},
                               {"page_content": f"p{i}"}) for i in range(start, min(points, start + 2000))]
        engine.run("bench", Write(batch))
    engine.run("bench", Optimize())
    took = []
    for _ in range(5):
        start = time.perf_counter()
        for name in ("dense", "sparse"):
            assert engine.run("bench", Count(filters.lacking_vector(name))) == 0
        took.append(time.perf_counter() - start)
    index.close()
    return {"points": points, "count_both_vectors_ms_median": 1000 * statistics.median(took)}


def main(docs: int = 1000, queries: int = 100, points: int = 100_000,
         out: Path = ROOT / "benchmarks" / "results" / "completeness.json") -> dict:
    result = {"per_query": per_query(docs, queries), "per_open": per_open(points)}
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
