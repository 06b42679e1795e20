"""`hybridstore ingest`: files in, re-runs converge, every skipped input reported."""

from __future__ import annotations

import argparse
import codecs
import os
import random
import sys
import time
from typing import Any

from . import EXIT_USAGE, Interrupted, UsageError, opening, report
from .sources import Inputs, missing, read, source_of

FILES_PER_REQUEST = 256


def cmd_ingest(args: argparse.Namespace) -> int:
    gone = missing(args.paths)
    if gone:
        raise UsageError(f"no such file or folder: {', '.join(gone)}")
    if args.sync and args.limit is not None:
        raise UsageError("--sync removes records of vanished files; it cannot be combined with --limit")
    try:
        codecs.lookup(args.encoding)
    except LookupError:
        raise UsageError(f"--encoding {args.encoding}: no such encoding "
                         "(e.g. latin-1, cp1252, utf-16)") from None
    inputs = read(args.paths, args.chunk_size, args.chunk_overlap, args.encoding, images=args.image is not None)
    if args.strict and inputs.problems:
        report.problems(inputs.problems, args.report)
        print(f"error: --strict: nothing was written ({len(inputs.problems)} input(s) to fix first)",
              file=sys.stderr)
        return EXIT_USAGE
    records = inputs.records[: args.limit]
    with opening.index(args) as index:
        start = time.perf_counter()
        try:
            stats = write(index, records)
            removed = 0 if args.limit is not None else remove_stale(index, inputs)
            removed += remove_vanished(index, args.paths) if args.sync else 0
        except KeyboardInterrupt:
            raise Interrupted(
                f"\ninterrupted: collection {index.collection!r} holds {index.count()} records; run "
                "the same command again to continue (stored records that are unchanged are "
                "skipped)") from None
        took = time.perf_counter() - start
        print(f"indexed {len(records)} records from {len(inputs.files)} files in {took:.1f}s "
              f"({len(records) / max(took, 1e-9):.1f}/s): {stats['embedded']} embedded, "
              f"{stats['unchanged']} unchanged, {stats['payload_only']} with new metadata only; "
              f"{removed} stale removed; collection "
              f"{index.collection!r} now holds {index.count()}")
    if inputs.ignored:
        print(f"({inputs.ignored} files of other types in the folders were left alone)", file=sys.stderr)
    report.problems(inputs.problems, args.report)
    return 1 if inputs.problems else 0


def write(index: Any, records: list) -> dict[str, int]:
    """Add in batches of similar token length (how the models batch them), each written as
    soon as it is embedded, in a shuffled order so the progress bar's ETA holds."""
    parts = index.models.batches([r.text for r in records]) if records else []
    random.Random(0).shuffle(parts)
    stats = {"embedded": 0, "unchanged": 0, "payload_only": 0}
    with report.Progress("ingest", "rec", len(records)) as bar:
        for part in parts:
            index.add([records[i] for i in part])
            for key in stats:
                stats[key] += index.stats[key]
            bar.update(len(part))
    return stats


def remove_stale(index: Any, inputs: Inputs) -> int:
    """Delete stored records of the files read whose ids this run did not produce (the chunks a
    file lost, the rows a JSONL file dropped), and all those of files that no longer decode."""
    now: dict[str, set[str]] = {f: set() for f in inputs.files | inputs.unread}
    for r in inputs.records:
        now.setdefault(source_of(r.metadata), set()).add(r.id)
    files = sorted(now)
    stale = []
    for i in range(0, len(files), FILES_PER_REQUEST):
        batch = files[i:i + FILES_PER_REQUEST]
        stored = index.get(filter={"$or": [{"source": {"$in": batch}}, {"source_file": {"$in": batch}}]})
        stale += [r.id for r in stored if r.id not in now.get(source_of(r.metadata), {r.id})]
    if stale:
        index.delete(stale)
    return len(stale)


def remove_vanished(index: Any, paths: list[str]) -> int:
    """Delete stored records whose file lay under one of the given folders and is gone."""
    folders = [os.path.realpath(p) + os.sep for p in paths if os.path.isdir(p)]
    stored = index.get(filter={"$or": [{"source": {"$exists": True}}, {"source_file": {"$exists": True}}]})
    gone = [r.id for r in stored if (src := source_of(r.metadata))
            and any(src.startswith(f) for f in folders) and not os.path.exists(src)]
    if gone:
        index.delete(gone)
    return len(gone)
