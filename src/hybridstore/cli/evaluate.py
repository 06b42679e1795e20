"""`hybridstore eval`: nDCG@10 and Recall@100 per mode on a BEIR-format folder."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import EVAL_MODES, UsageError, eval_report, opening

if TYPE_CHECKING:
    from ..index import HybridIndex
    from ..inference import Models
    from ..records import Record

Row = dict[str, Any]  # one mode's scores, or its error (printed, and written as JSON)


def cmd_eval(args: argparse.Namespace) -> int:
    from .. import beir
    from ..errors import HybridStoreError

    folder = Path(args.beir_dir)
    if not beir.is_beir(folder):
        raise UsageError(f"{folder} is not a BEIR folder (corpus.jsonl with queries.jsonl and qrels/<split>.tsv)")
    for out in (args.json_out, args.report):  # known before minutes of work, not after
        if out and not Path(out).resolve().parent.is_dir():
            raise UsageError(f"cannot write {out}: its folder does not exist (create it, or give another path)")
    if args.from_json:
        return _report_only(args, folder)
    models = opening.models(args)
    modes = _modes(args.modes, set(models.kinds()))
    qrels = beir.qrels(folder, args.split)
    queries = {q: t for q, t in beir.queries(folder).items() if q in qrels}
    qids = sorted(queries)[: args.max_queries]
    skipped: list[str] = []
    whole = list(beir.corpus_records(folder, skipped))
    corpus = _subset(whole, qids, qrels, args.max_docs)
    if skipped:
        print(f"skipped {len(skipped)} empty documents (e.g. {', '.join(skipped[:3])})", file=sys.stderr)
    if not args.collection_given:
        args.collection = own_collection(folder, models)
    rows: list[Row] = []
    with opening.index(args, models) as index:
        _only_the_dataset(index, {r.id for r in whole}, {r.id for r in corpus}, folder)
        print(f"evaluating {len(corpus)} documents in collection {index.collection!r}...", file=sys.stderr)
        _ingest(index, corpus)
        if index.count() != len(corpus):
            raise UsageError(f"collection {index.collection!r} holds {index.count()} records after the "
                             f"ingest, not the {len(corpus)} documents evaluated; report this")
        for mode in modes:
            try:
                rows.append(_eval_mode(index, mode, qids, queries, qrels, args.rerank_depth))
            except HybridStoreError as e:  # the others still run and are reported
                rows.append({"mode": mode, "error": str(e)})
        lost = eval_report.losses(rows, queries) if args.report else []
        if args.report:
            eval_report.explain_worst(index, lost, qrels, search_options("hybrid", args.rerank_depth))
    print(f"{'mode':<16}{'nDCG@10':>9}{'R@100':>9}{'p50 ms':>9}   ({len(qids)} queries, "
          f"{len(corpus)} documents)")
    for row in rows:
        if "error" in row:
            print(f"{row['mode']:<16}failed: {row['error']}")
        else:
            print(f"{row['mode']:<16}{row['ndcg@10']:>9.4f}{row['recall@100']:>9.4f}{row['p50_ms']:>9.1f}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2))
    if args.report:
        Path(args.report).write_text(eval_report.html(rows, lost, folder.resolve().name), encoding="utf-8")
    return 1 if any("error" in r for r in rows) else 0


def _report_only(args: argparse.Namespace, folder: Path) -> int:
    """--from-json: the report of an earlier eval's --json-out (nothing searched, so nothing
    explained), with the query texts of its BEIR folder."""
    from .. import beir

    if not args.report:
        raise UsageError("--from-json only makes a report: give --report FILE.html too")
    rows = eval_report.read_rows(Path(args.from_json))
    texts = beir.queries(folder)
    unknown = sorted({q for r in rows for q in r.get("queries", {}) if q not in texts})
    if unknown:
        raise UsageError(f"{args.from_json} has queries {folder} does not ({', '.join(unknown[:3])}): "
                         "give the BEIR folder it was evaluated on")
    lost = eval_report.losses(rows, texts)
    Path(args.report).write_text(eval_report.html(rows, lost, folder.resolve().name, explained=False),
                                 encoding="utf-8")
    return 0


def _ingest(index: HybridIndex, corpus: list[Record]) -> None:
    """One add of the whole corpus, as the adapters' add_texts does (documents stored as they
    are are not embedded again)."""
    from tqdm import tqdm

    with tqdm(total=len(corpus), unit="doc", desc="ingest", file=sys.stderr, disable=None) as bar:
        index.add(corpus, progress=bar.update)


def own_collection(folder: Path, models: Models) -> str:
    """eval's collection for this dataset and these models: never one a user filled."""
    import hashlib
    import os

    key = json.dumps([os.path.realpath(folder), models.signature()])
    return f"eval-{folder.resolve().name}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _only_the_dataset(index: HybridIndex, dataset: set[str], evaluated: set[str], folder: Path) -> None:
    """Refuse a collection holding anything but the dataset's documents; remove those of
    them an earlier eval (another --max-docs) left that this one does not evaluate."""
    if index.count() == 0:
        return
    stored = [r.id for r in index.get()]
    foreign = [i for i in stored if i not in dataset]
    if foreign:
        raise UsageError(
            f"collection {index.collection!r} holds {len(foreign)} records that are not documents of "
            f"{folder} (e.g. {foreign[0]!r}): eval would search them too. Leave out --collection "
            "(eval then uses a collection of its own) or name an empty one")
    stale = [i for i in stored if i not in evaluated]
    if stale:
        index.delete(stale)
        print(f"removed {len(stale)} documents an earlier eval left that this one does not evaluate",
              file=sys.stderr)


def _modes(asked: str | None, kinds: set[str]) -> list[str]:
    """The modes asked for (each must be one the models serve), or all they serve."""
    def serves(mode: str) -> bool:
        base, _, rerank = mode.partition("+")
        need = {"dense": {"dense"}, "sparse": {"sparse"}, "hybrid": {"dense", "sparse"}}[base]
        return need <= kinds and (not rerank or "late_interaction" in kinds)

    if asked is None:
        return [m for m in EVAL_MODES if serves(m)]
    modes = [m.strip() for m in asked.split(",") if m.strip()]
    unknown = [m for m in modes if m.partition("+")[0] not in ("dense", "sparse", "hybrid")
               or m.partition("+")[2] not in ("", "rerank")]
    if unknown:
        raise UsageError(f"unknown modes {unknown}; choose from {', '.join(EVAL_MODES)} "
                         "(or dense+rerank, sparse+rerank)")
    unserved = [m for m in modes if not serves(m)]
    if unserved:
        raise UsageError(f"the models ({', '.join(sorted(kinds))}) cannot serve {unserved}; "
                         "rerank modes need --late MODEL, sparse ones a sparse model")
    return modes


def _subset(corpus: list[Record], qids: list[str], qrels: dict[str, dict[str, int]],
            max_docs: int | None) -> list[Record]:
    """With --max-docs: the judged documents of the chosen queries, then the first N others."""
    if max_docs is None:
        return corpus
    judged = {d for q in qids for d in qrels[q]}
    others = [r for r in corpus if r.id not in judged][:max_docs]
    return [r for r in corpus if r.id in judged] + others


def search_options(mode: str, depth: int) -> dict[str, Any]:
    """The search keywords of an eval mode (its searches, and --report's explained ones)."""
    base, _, rerank = mode.partition("+")
    rerank_options: dict[str, Any] = {"oversample": 1, "fetch_k": depth} if rerank else {}
    return {"mode": base, "rerank": bool(rerank), **rerank_options}


def _eval_mode(index: HybridIndex, mode: str, qids: list[str], queries: dict[str, str],
               qrels: dict[str, dict[str, int]], depth: int) -> Row:
    from tqdm import tqdm

    from .. import beir

    options = search_options(mode, depth)
    per: dict[str, dict[str, float]] = {}  # each query's figures (--json-out, --report)
    took: list[float] = []
    for qid in tqdm(qids, desc=mode, file=sys.stderr, leave=False, disable=None):
        start = time.perf_counter()
        hits = index.search(queries[qid], eval_report.DEPTH, **options)
        took.append(time.perf_counter() - start)
        ranked = [h.record.id for h in hits]
        per[qid] = {"ndcg@10": beir.ndcg_at(ranked, qrels[qid], 10),
                    "recall@100": beir.recall_at(ranked, qrels[qid], 100)}
    took.sort()
    return {"mode": mode, "ndcg@10": beir.mean([q["ndcg@10"] for q in per.values()]),
            "recall@100": beir.mean([q["recall@100"] for q in per.values()]),
            "p50_ms": 1000 * took[len(took) // 2] if took else 0.0, "queries": per}
