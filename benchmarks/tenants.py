"""Quality per tenant, side by side in one run: SciFact split into tenants by document id, each
test query asked of its tenant through a tenant's view of one shared collection, and of a
separate collection holding only that tenant's documents. BM25's IDF is collection-wide in the
shared collection and per tenant in the separate ones; dense vectors do not care.

A query belongs to the tenant of its first relevant document; only that tenant's relevant
documents count. Document embeddings come from the frameworks benchmark's cache (computed once,
see frameworks.prepare); queries are embedded live.

Usage: python benchmarks/tenants.py [--tenants 20]; writes benchmarks/results/tenants.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import zlib
from pathlib import Path

from hybridstore import HybridIndex, Models, Record, beir

HERE = Path(__file__).resolve().parent
MODES = ("hybrid", "dense", "sparse")
MARGIN = 0.01  # the stated margin: the shared collection's mean nDCG@10 may trail by at most this


def tenant_of(doc_id: str, tenants: int) -> str:
    return f"t{zlib.crc32(doc_id.encode()) % tenants:02d}"


def main(tenants: int = 20, limit: int | None = None, max_queries: int | None = None,
         out: Path = HERE / "results" / "tenants.json") -> dict:
    from frameworks import corpus, prepare, serve_cached_documents, test_queries

    prepare(limit, max_queries, False)
    ids, texts = corpus(limit, max_queries)
    serve_cached_documents(texts)
    by_tenant: dict[str, list[Record]] = {}
    for rid, text in zip(ids, texts):
        by_tenant.setdefault(tenant_of(rid, tenants), []).append(Record(rid, text, doc_id=rid))
    queries, qrels = test_queries(max_queries)
    shared = HybridIndex("shared", Models(), tenant_key="tenant")
    separate = {t: HybridIndex(f"own-{t}", Models()) for t in by_tenant}
    for t, records in by_tenant.items():
        shared.tenant(t).add(records)
        separate[t].add(records)
    scores: dict[str, dict[str, dict[str, list[float]]]] = {m: {"shared": {}, "separate": {}} for m in MODES}
    for qid, text in queries.items():
        t = tenant_of(next(iter(qrels[qid])), tenants)
        if t not in separate:  # a limited corpus may leave a query's tenant out
            continue
        rels = {d: r for d, r in qrels[qid].items() if tenant_of(d, tenants) == t}
        for mode in MODES:
            for setup, index in (("shared", shared.tenant(t)), ("separate", separate[t])):
                ranked = [h.record.id for h in index.search(text, 100, mode=mode)]
                scores[mode][setup].setdefault(t, []).append(beir.ndcg_at(ranked, rels, 10))
    result = {"tenants": len(by_tenant), "queries": len(queries), "margin": MARGIN, "modes": {}}
    for mode in MODES:
        per = {setup: {t: statistics.mean(v) for t, v in scores[mode][setup].items()} for setup in ("shared", "separate")}
        overall = {setup: statistics.mean(x for v in scores[mode][setup].values() for x in v)
                   for setup in ("shared", "separate")}
        gaps = [per["shared"][t] - per["separate"][t] for t in per["shared"]]
        result["modes"][mode] = {"ndcg@10 shared": overall["shared"], "ndcg@10 separate": overall["separate"],
                                 "difference": overall["shared"] - overall["separate"],
                                 "worst tenant difference": min(gaps), "best tenant difference": max(gaps),
                                 "per tenant": {t: [per["shared"][t], per["separate"][t]] for t in sorted(per["shared"])}}
    out.write_text(json.dumps(result, indent=2) + "\n")
    for mode, m in result["modes"].items():
        print(f"{mode:<8} shared {m['ndcg@10 shared']:.4f}  separate {m['ndcg@10 separate']:.4f}  "
              f"difference {m['difference']:+.4f}  per tenant {m['worst tenant difference']:+.4f} .. "
              f"{m['best tenant difference']:+.4f}")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--tenants", type=int, default=20)
    p.add_argument("--limit", type=int, default=None, help="corpus documents (default all)")
    p.add_argument("--max-queries", type=int, default=None)
    p.add_argument("--out", type=Path, default=HERE / "results" / "tenants.json")
    a = p.parse_args()
    main(a.tenants, a.limit, a.max_queries, a.out)
