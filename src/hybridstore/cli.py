"""`hybridstore` command line: ingest, search, eval, info, bench."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from . import beir
from .chunking import chunk_text
from .errors import HybridStoreError
from .index import HybridIndex
from .inference import DEFAULT, Models
from .records import Record

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst"}
EVAL_MODES = ("dense", "sparse", "hybrid", "hybrid+rerank")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except HybridStoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hybridstore", description=__doc__)
    p.add_argument("--collection", default="hybridstore")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--path", default=None, help="on-disk index folder (default ./hybridstore-data)")
    where.add_argument("--location", default=None, help="':memory:' for a throw-away index")
    where.add_argument("--url", default=None, help="a Qdrant server")
    p.add_argument("--api-key", default=None)
    p.add_argument("--engine", choices=("edge", "local"), default=None,
                   help="embedded engine (default edge, or $HYBRIDSTORE_ENGINE)")
    p.add_argument("--pack", default=None, help="model pack folder (default $HYBRIDSTORE_MODELS)")
    for kind in ("dense", "sparse"):
        p.add_argument(f"--{kind}", default=None, help=f"{kind} model name, or 'none'")
    p.add_argument("--late", default=None, help="late-interaction model name (default: none)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    sub = p.add_subparsers(required=True)

    s = sub.add_parser("ingest", help="index files: .txt/.md/.jsonl, folders, BEIR folders")
    s.add_argument("paths", nargs="+", type=Path)
    s.add_argument("--chunk-size", type=int, default=1200)
    s.add_argument("--chunk-overlap", type=int, default=150)
    s.add_argument("--limit", type=int, default=None, help="index at most N records")
    s.set_defaults(run=cmd_ingest)

    s = sub.add_parser("search", help="print ranked hits for a query")
    s.add_argument("query")
    s.add_argument("-k", type=int, default=5)
    s.add_argument("--mode", choices=("dense", "sparse", "hybrid"), default=None)
    s.add_argument("--rerank", action=argparse.BooleanOptionalAction, default=None)
    s.add_argument("--fusion", choices=("rrf", "dbsf"), default=None, help="default: dbsf")
    s.add_argument("--filter", type=json.loads, default=None, help='JSON, e.g. \'{"year": {"$gte": 2020}}\'')
    s.add_argument("--json", action="store_true", help="print JSON lines")
    s.set_defaults(run=cmd_search)

    s = sub.add_parser("eval", help="nDCG@10 and Recall@100 per mode on a BEIR folder")
    s.add_argument("beir_dir", type=Path)
    s.add_argument("--split", default="test")
    s.add_argument("--modes", default=",".join(EVAL_MODES))
    s.add_argument("--max-queries", type=int, default=None)
    s.add_argument("--rerank-depth", type=int, default=100,
                   help="candidates the late-interaction model reranks (default 100)")
    s.add_argument("--json-out", type=Path, default=None)
    s.set_defaults(run=cmd_eval)

    s = sub.add_parser("reembed", help="embed stored texts into vectors of newly added models "
                       "(e.g. --late MODEL), in place and resumably")
    s.add_argument("--batch", type=int, default=256)
    s.set_defaults(run=cmd_reembed)

    s = sub.add_parser("info", help="collection, vectors, models, counts")
    s.set_defaults(run=cmd_info)

    s = sub.add_parser("bench", help="ingest docs/s: padding-aware vs naive batches, one run")
    s.add_argument("beir_dir", type=Path)
    s.add_argument("--limit", type=int, default=1000)
    s.add_argument("--json-out", type=Path, default=None)
    s.set_defaults(run=cmd_bench)
    return p


def _models(args: argparse.Namespace, **extra: Any) -> Models:
    def pick(value: str | None) -> Any:
        return DEFAULT if value is None else None if value.lower() == "none" else value

    late = None if args.late in (None, "none") else args.late
    return Models(pick(args.dense), pick(args.sparse), late, pack=args.pack,
                  batch_size=args.batch_size, threads=args.threads, **extra)


def _index(args: argparse.Namespace, models: Models | None = None, **where: Any) -> HybridIndex:
    if not where:
        where = ({"url": args.url, "api_key": args.api_key} if args.url
                 else {"location": args.location} if args.location
                 else {"path": args.path or "hybridstore-data"})
    if "url" not in where:
        where["engine"] = args.engine
    return HybridIndex(args.collection, models or _models(args), **where)


def _records(paths: list[Path], size: int, overlap: int) -> Iterator[Record]:
    for root in paths:
        if root.is_dir() and beir.is_beir(root):
            yield from beir.corpus_records(root)
            continue
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in files:
            if f.suffix == ".jsonl":
                yield from _jsonl(f)
            elif f.suffix.lower() in TEXT_SUFFIXES:
                for i, chunk in enumerate(chunk_text(f.read_text(encoding="utf-8"), size, overlap)):
                    yield Record(f"{f}#{i}", chunk, {"source": str(f), "chunk": i}, doc_id=str(f))


def _jsonl(path: Path) -> Iterator[Record]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            row = json.loads(line)
            text = row.get("text") or row.get("page_content")
            rid = str(row.get("id") or row.get("_id") or f"{path}:{n}")
            yield Record(rid, text, row.get("metadata") or {}, doc_id=row.get("doc_id") or rid)


def cmd_ingest(args: argparse.Namespace) -> int:
    records = list(_records(args.paths, args.chunk_size, args.chunk_overlap))[: args.limit]
    with _index(args) as index, tqdm(total=len(records), unit="rec", desc="ingest") as bar:
        start = time.perf_counter()
        index.add(records, progress=bar.update)
        took = time.perf_counter() - start
        bar.close()
        print(f"indexed {len(records)} records in {took:.1f}s ({len(records) / took:.1f}/s); "
              f"collection {index.collection!r} now holds {index.count()}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    with _index(args) as index:
        hits = index.search(args.query, args.k, mode=args.mode, rerank=args.rerank,
                            fusion=args.fusion, filter=args.filter)
    for rank, hit in enumerate(hits, 1):
        r = hit.record
        if args.json:
            print(json.dumps({"rank": rank, "score": hit.score, "id": r.id, "text": r.text,
                              "metadata": r.metadata}))
        else:
            text = r.text if len(r.text) <= 160 else r.text[:157] + "..."
            print(f"{rank:>2}. {hit.score:8.4f}  {r.id}  {json.dumps(r.metadata)}\n    {text}")
    return 0


def cmd_reembed(args: argparse.Namespace) -> int:
    with _index(args) as index, tqdm(unit="vec", desc="reembed") as bar:
        start = time.perf_counter()
        filled = index.reembed(batch_size=args.batch, progress=lambda name, n: bar.update(n))
        bar.close()
        print(f"embedded {json.dumps(filled)} in {time.perf_counter() - start:.1f}s; "
              f"collection {index.collection!r} holds {index.count()}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    with _index(args) as index:
        print(json.dumps(index.info(), indent=2))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(EVAL_MODES)
    if unknown:
        raise SystemExit(f"unknown modes {sorted(unknown)}; choose from {', '.join(EVAL_MODES)}")
    qrels = beir.qrels(args.beir_dir, args.split)
    queries = {q: t for q, t in beir.queries(args.beir_dir).items() if q in qrels}
    qids = sorted(queries)[: args.max_queries]
    corpus = list(beir.corpus_records(args.beir_dir))
    with _index(args) as index:
        if index.count() != len(corpus):
            print(f"ingesting {len(corpus)} documents into {index.collection!r}...", file=sys.stderr)
            with tqdm(total=len(corpus), unit="doc", desc="ingest", file=sys.stderr) as bar:
                index.add(corpus, progress=bar.update)
        rows = [_eval_mode(index, mode, qids, queries, qrels, args.rerank_depth) for mode in modes]
    print(f"{'mode':<16}{'nDCG@10':>9}{'R@100':>9}{'p50 ms':>9}   ({len(qids)} queries)")
    for row in rows:
        print(f"{row['mode']:<16}{row['ndcg@10']:>9.4f}{row['recall@100']:>9.4f}{row['p50_ms']:>9.1f}")
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2))
    return 0


def _eval_mode(index: HybridIndex, mode: str, qids: list[str], queries: dict, qrels: dict,
               depth: int) -> dict:
    base, _, rerank = mode.partition("+")
    options = {"oversample": 1, "fetch_k": depth} if rerank else {}
    ndcg, recall, took = [], [], []
    for qid in tqdm(qids, desc=mode, file=sys.stderr, leave=False):
        start = time.perf_counter()
        hits = index.search(queries[qid], 100, mode=base, rerank=bool(rerank), **options)
        took.append(time.perf_counter() - start)
        ranked = [h.record.id for h in hits]
        ndcg.append(beir.ndcg_at(ranked, qrels[qid], 10))
        recall.append(beir.recall_at(ranked, qrels[qid], 100))
    took.sort()
    return {"mode": mode, "ndcg@10": beir.mean(ndcg), "recall@100": beir.mean(recall),
            "p50_ms": 1000 * took[len(took) // 2]}


def cmd_bench(args: argparse.Namespace) -> int:
    from .inference.batching import length_order, padded_tokens, token_lengths

    records = list(beir.corpus_records(args.beir_dir))[: args.limit]
    texts = [r.text for r in records]
    results = []
    for aware in (False, True, False, True):  # interleaved: drift hits both alike
        models = _models(args, padding_aware=aware)
        models.dense.embed_documents(["warm up"])
        index = _index(args, models, location=":memory:")
        start = time.perf_counter()
        index.add(records)
        took = time.perf_counter() - start
        results.append({"padding_aware": aware, "seconds": took, "docs_per_s": len(records) / took})
        index.close()
    lengths, _ = token_lengths(models.dense.tokenizer(), texts)
    batch = models.dense.spec.options.get("batch_size") or 32
    naive = padded_tokens(lengths, range(len(texts)), batch) / lengths.sum()
    aware_pad = padded_tokens(lengths, length_order(lengths), batch) / lengths.sum()
    summary = {
        "docs": len(records), "batch_size": batch, "runs": results,
        "padding_naive": naive, "padding_aware": aware_pad,
        "speedup": _best(results, True) / _best(results, False),
    }
    print(json.dumps(summary, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(summary, indent=2))
    return 0


def _best(runs: list[dict], aware: bool) -> float:
    return max(r["docs_per_s"] for r in runs if r["padding_aware"] == aware)


if __name__ == "__main__":
    sys.exit(main())
