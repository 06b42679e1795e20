"""`hybridstore search | delete | reembed | copy | snapshot | restore | info | bench`."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from .. import explain
from ..errors import ConfigurationError
from . import UsageError, explained, opening, report

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from ..inference import Embedder, Models


class BenchRun(TypedDict):
    padding_aware: bool
    seconds: float
    docs_per_s: float


def cmd_search(args: argparse.Namespace) -> int:
    if args.by_image is not None and args.image is None:
        raise UsageError("--by-image needs an image model: --image MODEL (the one the collection was made with)")
    if args.by_image is not None and args.query.strip() and args.mode != "multimodal":
        raise UsageError("--by-image searches by the image alone: give an empty query ('') or "
                         "--mode multimodal to fuse the text's vectors too")
    by_image = {"image": args.by_image, "mode": args.mode or "image"} if args.by_image is not None else {}
    picked: dict[str, object] = {"mmr": args.mmr} if args.mmr is not None else {}
    if args.group_by is not None:
        picked.update(group_by=args.group_by, group_size=args.group_size)
    with opening.index(args, existing=True) as index:
        hits = index.search(args.query, args.k, **{**explained.search_options(args), **by_image, **picked},
                            explain=args.explain)
    for rank, hit in enumerate(hits, 1):
        r = hit.record
        if args.json:
            why = {"explanation": explain.as_dict(hit.explanation)} if hit.explanation is not None else {}
            print(json.dumps({"rank": rank, "score": hit.score, "id": r.id, "text": r.text,
                              "metadata": r.metadata, **({"image": r.image} if r.image is not None else {}),
                              **why}))
        else:
            text = " ".join(r.text.split()) or f"(image {r.image})"  # one line per hit
            text = text if len(text) <= 160 else text[:157] + "..."
            print(f"{rank:>2}. {hit.score:8.4f}  {r.id}  {json.dumps(r.metadata)}\n    {text}")
    if args.explain and not args.json and hits:
        print("\n" + "\n".join(explained.table(hits)))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Each selector given removes its records (ids, documents, files, filter)."""
    from .ingest import from_folders

    if not (args.ids or args.docs or args.files or args.folders or args.filter):
        raise UsageError("delete needs --id, --doc, --file, --folder or --filter")
    files = [os.path.realpath(f) for f in args.files]  # as ingest names them
    with opening.index(args, existing=True, embeds=False) as index:
        before = index.count()
        if args.ids:
            index.delete(args.ids)
        if args.docs:
            index.delete(doc_id=args.docs)
        if files:
            index.delete(filter={"$or": [{"source": {"$in": files}}, {"source_file": {"$in": files}}]})
        if args.folders:
            found = from_folders(index, [os.path.realpath(f) for f in args.folders])
            if found:
                index.delete(found)
        if args.filter:
            index.delete(filter=args.filter)
        after = index.count()
        print(f"deleted {before - after} records; collection {index.collection!r} now holds {after}")
    return 0


def cmd_reembed(args: argparse.Namespace) -> int:
    with opening.index(args, existing=True) as index, report.Progress("reembed", "vec") as bar:
        start = time.perf_counter()
        filled = index.reembed(batch_size=args.batch, progress=lambda name, n: bar.update(n))
        bar.close()
        print(f"embedded {json.dumps(filled)} in {time.perf_counter() - start:.1f}s; "
              f"collection {index.collection!r} holds {index.count()}")
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .. import copying
    from ..index import HybridIndex
    from ..settings import Settings

    chosen = opening.models(args).load()
    where = opening.place(args, existing=True)
    source = HybridIndex(args.collection, chosen,
                         settings=replace(opening.settings(args, **where), storage=None))
    copying.require_source(source.engine, source.collection)  # before the target's folder or collection is made
    same_folder = args.to_path is not None and not (args.url or args.location) \
        and os.path.realpath(args.to_path) == os.path.realpath(args.path)
    where = {"url": args.to_url, "api_key": args.to_api_key} if args.to_url \
        else {"engine": source.engine} if same_folder else {"path": args.to_path, "engine": args.to_engine}
    with source, HybridIndex(args.to_collection or args.collection, chosen, settings=Settings(
            **where, storage=args.storage, shards=args.shards, replicas=args.replicas)) as target, \
            report.Progress("copy", "pt") as bar:
        start = time.perf_counter()
        done = source.copy_to(target, batch=args.batch, verify=args.verify, resume=not args.no_resume,
                              progress=lambda n: bar.update(n - bar.n))
        bar.close()
        print(f"copied {json.dumps(done)} in {time.perf_counter() - start:.1f}s into collection "
              f"{target.collection!r} at {args.to_url or args.to_path}")
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    with opening.index(args, existing=True, embeds=False) as index, report.Progress("snapshot", "pt") as bar:
        start = time.perf_counter()
        done = index.snapshot(args.file, batch=args.batch, progress=lambda n: bar.update(n - bar.n))
        bar.close()
        print(f"wrote {json.dumps(done)} of collection {index.collection!r} to {args.file} in "
              f"{time.perf_counter() - start:.1f}s")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ..index import HybridIndex

    if not os.path.isfile(args.file):
        raise UsageError(f"no snapshot file {args.file}: check the path")
    with report.Progress("restore", "pt") as bar:
        start = time.perf_counter()
        done = HybridIndex.restore(args.file, args.collection, replace=args.replace, batch=args.batch,
                                   progress=lambda n: bar.update(n - bar.n), settings=opening.settings(args))
        bar.close()
    print(f"restored {json.dumps(done)} from {args.file} as collection {args.collection!r} in "
          f"{time.perf_counter() - start:.1f}s")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    try:
        chosen: Models | None = opening.models(args).load()
        failed = None
    except ConfigurationError as e:  # said below, after what is stored: the models it needs
        chosen, failed = None, e
    with opening.index(args, chosen, existing=True, embeds=chosen is not None) as index:
        info = index.info(compare=chosen is not None)
    if failed is not None:
        info["models_error"] = str(failed)
    print(json.dumps(info, indent=2))
    if failed is not None:
        raise UsageError(f"{failed} (above: the collection as stored, with the models it was made with; "
                         "the configured ones could not be loaded to compare)")
    if not info["exists"]:
        raise UsageError(f"collection {args.collection!r} does not exist there (the models above are "
                         "those configured): check --collection, or create it with hybridstore ingest")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .. import beir
    from ..inference.batching import length_order, padded_tokens, token_lengths

    records = list(beir.corpus_records(Path(args.beir_dir)))[: args.limit]
    texts = [r.text for r in records]
    results: list[BenchRun] = []
    for aware in (False, True, False, True):  # interleaved: drift hits both alike
        models = opening.models(args, padding_aware=aware)
        dense, tokenizer = _padding(models)
        dense.embed_documents(["warm up"])
        index = opening.index(args, models, location=":memory:")
        start = time.perf_counter()
        index.add(records)
        took = time.perf_counter() - start
        results.append({"padding_aware": aware, "seconds": took, "docs_per_s": len(records) / took})
        index.close()
    lengths, _ = token_lengths(tokenizer, texts)
    batch = dense.spec.options.get("batch_size") or 32
    naive = padded_tokens(lengths, range(len(texts)), batch) / lengths.sum()
    aware_pad = padded_tokens(lengths, length_order(lengths), batch) / lengths.sum()
    summary = {
        "docs": len(records), "batch_size": batch, "runs": results,
        "padding_naive": naive, "padding_aware": aware_pad,
        "speedup": _best(results, True) / _best(results, False),
    }
    print(json.dumps(summary, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(summary, indent=2))
    return 0


def _padding(models: Models) -> tuple[Embedder, Tokenizer]:
    """The dense model whose batches bench measures, and its tokenizer."""
    from ..inference import Embedder

    dense = models.dense
    tokenizer = dense.tokenizer() if isinstance(dense, Embedder) else None
    if not isinstance(dense, Embedder) or tokenizer is None:
        raise UsageError("bench measures the padding of a dense model's batches: it needs a fastembed "
                         f"dense model with a tokenizer (--dense MODEL), not {dense!r}")
    return dense, tokenizer


def _best(runs: list[BenchRun], aware: bool) -> float:
    return max(r["docs_per_s"] for r in runs if r["padding_aware"] == aware)
