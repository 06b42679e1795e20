"""hybridstore vs langchain-qdrant vs llama-index-vector-stores-qdrant vs a hand-written floor,
on BEIR SciFact (title + " " + text), same models and thread settings, side by side in one run.

Each system runs in its own subprocess (so its peak RSS is its own), in two phases:
1. ingest, timed and uncached: the first --timing-docs documents, embedded for real the way the
   system does it (batching included); docs/s and peak RSS come from this phase;
2. quality: the whole corpus into a fresh collection, with document embeddings served from a
   cache computed once per model (`prepare`, the same fastembed models), then every test query
   embedded live: nDCG@10, Recall@100 (cross-checked with ranx), p50/p95 query latency.

Writes benchmarks/results/frameworks.json, frameworks.md and frameworks.png.
Usage: python benchmarks/frameworks.py [--timing-docs 1000] [--systems a,b] [--smoke]
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
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SCIFACT = HERE.parents[1] / "shared" / "datasets" / "scifact"
PACK = os.environ.get("HYBRIDSTORE_MODELS") or str(HERE.parents[1] / "shared" / "models")
CACHE = Path(os.environ.get("HYBRIDSTORE_BENCH_CACHE", Path.home() / ".cache" / "hybridstore-bench"))
OUT = HERE / "results"


def corpus(limit: int | None = None, max_queries: int | None = None) -> tuple[list[str], list[str]]:
    """The corpus; a limited one keeps the relevant documents of the queries asked first."""
    from hybridstore import beir

    records = list(beir.corpus_records(SCIFACT))
    if limit is not None:
        wanted = {d for rels in test_queries(max_queries)[1].values() for d in rels}
        records = sorted(records, key=lambda r: r.id not in wanted)[:limit]
    return [r.id for r in records], [r.text for r in records]


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM; ru_maxrss would start at the parent's)."""
    with open("/proc/self/status", encoding="utf-8") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024


def test_queries(limit: int | None) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    from hybridstore import beir

    qrels = beir.qrels(SCIFACT, "test")
    queries = {q: t for q, t in beir.queries(SCIFACT).items() if q in qrels}
    keep = sorted(queries)[:limit]
    return {q: queries[q] for q in keep}, {q: qrels[q] for q in keep}


# -- the document-embedding cache (quality phase only) -----------------------------------------
def prepare(limit: int | None, max_queries: int | None, late: bool) -> None:
    """Embed the corpus once per model (not timed) into CACHE."""
    from hybridstore import Models

    _, texts = corpus(limit, max_queries)
    kinds = ["dense"] + (["late_interaction"] if late else [])
    models = Models(sparse=None, late_interaction="colbert-ir/colbertv2.0" if late else None)
    for kind in kinds:
        path = cache_file(kind, len(texts))
        if path.exists():
            continue
        start, parts = time.perf_counter(), []
        for a in range(0, len(texts), 512):
            parts += models.embed_documents(texts[a:a + 512], [kind])[kind]
            print(f"prepare {kind}: {a + 512}/{len(texts)} in {time.perf_counter() - start:.0f}s", flush=True)
        lengths = np.array([len(np.atleast_2d(v)) for v in parts])
        flat = np.concatenate([np.atleast_2d(v) for v in parts]).astype(np.float16 if kind != "dense" else np.float32)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, vectors=flat, lengths=lengths)


def cache_file(kind: str, n: int) -> Path:
    return CACHE / f"scifact-{n}-{kind}.npz"


def serve_cached_documents(texts: list[str]) -> dict[str, int]:
    """Document embeddings from the cache for the texts of this corpus; anything else (queries
    use query_embed, which is never cached) is computed live. Returns hit/miss counts."""
    from fastembed import LateInteractionTextEmbedding, TextEmbedding

    stats = {"hits": 0, "misses": 0}
    for cls, kind in ((TextEmbedding, "dense"), (LateInteractionTextEmbedding, "late_interaction")):
        path = cache_file(kind, len(texts))
        if not path.exists():
            continue
        data = np.load(path)
        ends = np.cumsum(data["lengths"])
        flat = data["vectors"]
        table = {t: (e - n, e) for t, e, n in zip(texts, ends, data["lengths"])}
        live = cls.embed

        def embed(self, documents, *args, _live=live, _table=table, _flat=flat, _dense=kind == "dense",
                  **kwargs):
            documents = [documents] if isinstance(documents, str) else list(documents)
            missing = [d for d in documents if d not in _table]
            computed = dict(zip(missing, _live(self, missing, *args, **kwargs))) if missing else {}
            stats["hits"] += len(documents) - len(missing)
            stats["misses"] += len(missing)
            for d in documents:
                if d in computed:
                    yield computed[d]
                else:
                    a, b = _table[d]
                    v = _flat[a:b].astype(np.float32)
                    yield v[0] if _dense else v

        cls.embed = embed
        cls.passage_embed = embed  # LlamaIndex's fastembed wrapper calls this one
    return stats


# -- one system, in its own process ---------------------------------------------------------------
def run_one(name: str, timing_docs: int, limit: int | None, max_queries: int | None) -> dict:
    from frameworks_systems import SYSTEMS, offline_fastembed

    from hybridstore import beir

    offline_fastembed(PACK)
    make = SYSTEMS[name]
    ids, texts = corpus(limit, max_queries)
    system = make()  # models load here, outside the timing (every system alike)
    start = time.perf_counter()
    system.ingest(ids[:timing_docs], texts[:timing_docs])
    ingest_s = time.perf_counter() - start
    result: dict[str, Any] = {
        "system": name, "timing_docs": timing_docs, "ingest_s": ingest_s,
        "ingest_docs_per_s": timing_docs / ingest_s,
        "peak_rss_mb_ingest": peak_rss_mb()}
    del system

    cache = serve_cached_documents(texts)
    system = make()
    start = time.perf_counter()
    system.ingest(ids, texts)
    result["quality_ingest_s (cached document embeddings)"] = time.perf_counter() - start
    result["cache"] = dict(cache)
    queries, qrels = test_queries(max_queries)
    result["modes"] = {}
    for mode in system.modes:
        run, took = {}, []
        system.search(mode, "warm up query", 10)
        engine_ms = getattr(system, "engine_ms", None)
        if engine_ms is not None:
            engine_ms.clear()
        for qid, text in queries.items():
            t = time.perf_counter()
            run[qid] = system.search(mode, text, 100)
            took.append(time.perf_counter() - t)
        ndcg = beir.mean([beir.ndcg_at(run[q], qrels[q], 10) for q in queries])
        recall = beir.mean([beir.recall_at(run[q], qrels[q], 100) for q in queries])
        ranx_ndcg, ranx_recall = cross_check(run, qrels)
        assert abs(ndcg - ranx_ndcg) < 1e-6 and abs(recall - ranx_recall) < 1e-6, (ndcg, ranx_ndcg)
        took.sort()
        took_10 = []  # the same queries at k=10, the other size a RAG chain asks for
        for text in queries.values():
            t = time.perf_counter()
            system.search(mode, text, 10)
            took_10.append(time.perf_counter() - t)
        result["modes"][mode] = {"ndcg@10": ndcg, "recall@100": recall, "ranx ndcg@10": ranx_ndcg,
                                 "p50_ms": 1000 * statistics.median(took),
                                 "p95_ms": 1000 * took[int(0.95 * (len(took) - 1))],
                                 "p50_ms k=10": 1000 * statistics.median(took_10)}
        if engine_ms:
            result["modes"][mode]["engine_p50_ms"] = statistics.median(engine_ms)
    result["peak_rss_mb_total"] = peak_rss_mb()
    return result


def cross_check(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> tuple[float, float]:
    from ranx import Qrels, Run, evaluate

    scored = {q: {d: float(len(docs) - i) for i, d in enumerate(docs)} for q, docs in run.items()}
    scores = evaluate(Qrels(qrels), Run(scored), ["ndcg@10", "recall@100"])
    return float(scores["ndcg@10"]), float(scores["recall@100"])


# -- report ------------------------------------------------------------------------------------
def table(rows: list[dict]) -> str:
    lines = [("| system | mode | nDCG@10 | Recall@100 | p50 ms | p95 ms | p50 ms k=10 | engine p50 ms "
              "| ingest docs/s | peak RSS MB (ingest) |"), "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for mode, m in r["modes"].items():
            engine = f"{m['engine_p50_ms']:.2f}" if "engine_p50_ms" in m else "-"
            lines.append(f"| {r['system']} | {mode} | {m['ndcg@10']:.4f} | {m['recall@100']:.4f} | "
                         f"{m['p50_ms']:.1f} | {m['p95_ms']:.1f} | {m.get('p50_ms k=10', 0):.1f} | {engine} | "
                         f"{r['ingest_docs_per_s']:.2f} | {r['peak_rss_mb_ingest']:.0f} |")
    return "\n".join(lines)


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    for r in rows:
        ours = r["system"].startswith("hybridstore")
        for mode, m in r["modes"].items():
            ax.scatter(m["p50_ms"], m["ndcg@10"], marker="o" if ours else "s",
                       color="tab:blue" if ours else "tab:gray", s=60)
            ax.annotate(f"{r['system'].replace('hybridstore / ', 'hs/')} {mode}", (m["p50_ms"], m["ndcg@10"]),
                        fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("query latency p50, ms (log; includes query embedding)")
    ax.set_ylabel("nDCG@10 (SciFact test)")
    ax.set_title("Quality vs query latency: hybridstore (blue) and the anchors (gray), one run")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    from frameworks_systems import SYSTEMS

    p = argparse.ArgumentParser()
    p.add_argument("--timing-docs", type=int, default=1000)
    p.add_argument("--systems", default=",".join(SYSTEMS))
    p.add_argument("--limit", type=int, default=None, help="corpus documents (default all)")
    p.add_argument("--max-queries", type=int, default=None)
    p.add_argument("--smoke", action="store_true", help="tiny run: 60 docs, 5 queries, no output files")
    p.add_argument("--one", default=None)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if args.smoke:
        args.limit, args.timing_docs, args.max_queries = args.limit or 60, min(args.timing_docs, 20), 5
    if args.one:
        print(json.dumps(run_one(args.one, args.timing_docs, args.limit, args.max_queries)))
        return
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    subprocess.run([sys.executable, "-c", ("import frameworks, sys; frameworks.prepare("
                    f"{args.limit}, {args.max_queries}, {any('ColBERT' in n for n in names)})")],
                   check=True, cwd=HERE)  # its own process: the embeddings never sit in this one
    rows = []
    for name in names:
        cmd = [sys.executable, __file__, "--one", name, "--timing-docs", str(args.timing_docs)]
        cmd += [f"--limit={args.limit}"] if args.limit else []
        cmd += [f"--max-queries={args.max_queries}"] if args.max_queries else []
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=HERE).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print(table(rows))
    if not args.smoke:
        args.out.mkdir(exist_ok=True)
        (args.out / "frameworks.json").write_text(json.dumps(rows, indent=2))
        (args.out / "frameworks.md").write_text(table(rows) + "\n")
        chart(rows, args.out / "frameworks.png")


if __name__ == "__main__":
    main()
