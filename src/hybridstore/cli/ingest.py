"""`hybridstore ingest`: files in, re-runs converge, every skipped input reported."""

from __future__ import annotations

import argparse
import codecs
import os
import random
import sys
import time
from typing import TYPE_CHECKING, Any

from . import EXIT_USAGE, Interrupted, UsageError, opening, report
from .sources import VIA_KEY, Inputs, Problem, missing, read, source_of

if TYPE_CHECKING:
    from ..index import HybridIndex
    from ..records import Record

FILES_PER_REQUEST = 256


def cmd_ingest(args: argparse.Namespace) -> int:
    gone = missing(args.paths)
    if gone:
        raise UsageError(f"no such file or folder: {', '.join(gone)}")
    if args.pages_dpi <= 0:
        raise UsageError(f"--pages-dpi {args.pages_dpi}: give a positive resolution, e.g. 100")
    if args.sync and args.limit is not None:
        raise UsageError("--sync removes records of vanished files; it cannot be combined with --limit")
    try:
        codecs.lookup(args.encoding)
    except LookupError:
        raise UsageError(f"--encoding {args.encoding}: no such encoding "
                         "(e.g. latin-1, cp1252, utf-16)") from None
    inputs = read(args.paths, args.chunk_size, args.chunk_overlap, args.encoding, images=args.image is not None,
                  pages_dpi=args.pages_dpi if args.pages is not None else None)
    if args.strict and inputs.problems:
        return _strict(inputs, args.report)
    with opening.index(args) as index:
        _pages_kept(index, args, inputs)
        if not args.replace:
            inputs.problems += claimed(index, inputs)
            if args.strict and inputs.problems:
                return _strict(inputs, args.report)
        records = inputs.records[: args.limit]
        start = time.perf_counter()
        try:
            stats = write(index, records)
            removed = 0 if args.limit is not None else remove_stale(index, inputs)
            removed += remove_vanished(index, args.paths, records) if args.sync else 0
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
    _listed(inputs.ignored, "file(s) in the folders were left alone (not .txt, .md, .rst, .jsonl, .pdf or "
            f".html{'' if args.image else ', or images without --image MODEL'})")
    _listed(inputs.textless, "PDF(s) have pages without text, indexed as page images alone (the pages "
            "search finds them, text searches cannot)" if args.pages else "PDF(s) have pages without "
            "text, left out (blank, or scanned: OCR them to search their text)")
    report.problems(inputs.problems, args.report)
    return 1 if inputs.problems else 0


def _listed(items: list[str], what: str) -> None:
    """A notice on stderr (not a problem: the exit status stays 0), the first items one a line."""
    if not items:
        return
    print(f"{len(items)} {what}:", file=sys.stderr)
    for f in items[:report.SHOWN]:
        print(f"  {f}", file=sys.stderr)
    if len(items) > report.SHOWN:
        print(f"  ... and {len(items) - report.SHOWN} more", file=sys.stderr)


def _strict(inputs: Inputs, report_file: str | None) -> int:
    report.problems(inputs.problems, report_file)
    print(f"error: --strict: nothing was written ({len(inputs.problems)} input(s) to fix first)",
          file=sys.stderr)
    return EXIT_USAGE


def write(index: HybridIndex, records: list[Record]) -> dict[str, int]:
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


def remove_stale(index: HybridIndex, inputs: Inputs) -> int:
    """Delete stored records of the files read whose ids this run did not produce (the chunks a
    file lost, the rows a JSONL file dropped), and all those of files that no longer decode.
    An id read from another file stays (it is refused or reported, not lost)."""
    now: dict[str, set[str]] = {f: set() for f in inputs.files | inputs.unread}
    for r in inputs.records:
        source = source_of(r.metadata)
        if source is not None:  # every record read from a file names it
            now.setdefault(source, set()).add(r.id)
    files, read = sorted(now), inputs.ids
    stale: list[str] = []
    for i in range(0, len(files), FILES_PER_REQUEST):
        batch = files[i:i + FILES_PER_REQUEST]
        stored = index.get(filter={"$or": [{"source": {"$in": batch}}, {"source_file": {"$in": batch}}]})
        stale += [r.id for r in stored if r.id not in now.get(source_of(r.metadata) or "", {r.id})
                  and r.id not in read]
    if stale:
        index.delete(stale)
    return len(stale)


def _pages_kept(index: HybridIndex, args: argparse.Namespace, inputs: Inputs) -> None:
    """PDF pages written without --pages into a collection with page vectors would lose theirs."""
    if args.pages is not None or not any("page" in r.metadata for r in inputs.records):
        return
    if any(v["kind"] == "late_interaction_multimodal" for v in index.info()["vectors"]):
        raise UsageError(f"collection {index.collection!r} holds PDF pages as images (written with "
                         "--pages MODEL): give the same --pages options again, or the pages' first "
                         "chunks would be written without their page vectors")


def claimed(index: HybridIndex, inputs: Inputs) -> list[Problem]:
    """Records whose id is stored from another file that still exists: left out of `inputs`
    (an id read twice overwrites), each a problem naming both files (--replace takes them)."""
    problems: list[Problem] = []
    keep: list[Record] = []
    for i in range(0, len(inputs.records), FILES_PER_REQUEST):
        part = inputs.records[i:i + FILES_PER_REQUEST]
        stored = {r.id: source_of(r.metadata) for r in index.get([r.id for r in part])}
        for r in part:
            other = stored.get(r.id, source_of(r.metadata))
            if other != source_of(r.metadata) and (other is None or os.path.exists(other)):
                problems.append(Problem(source_of(r.metadata) or r.id, (
                    f"id {r.id!r} is stored from {other or 'a record not ingested from a file'}; "
                    "pass --replace to overwrite it with this one; skipped")))
            else:
                keep.append(r)
    inputs.records = keep
    return problems


def from_folders(index: HybridIndex, folders: list[str]) -> list[str]:
    """Ids of the stored records read from files under `folders` (real paths) or through
    symlinks in them."""
    under = [f.rstrip(os.sep) + os.sep for f in folders]
    return [r.id for r in _from_files(index) if any(
        isinstance(p, str) and p.startswith(f) for p in (source_of(r.metadata), r.metadata.get(VIA_KEY))
        for f in under)]


def _from_files(index: HybridIndex) -> list[Record]:
    return index.get(filter={"$or": [{"source": {"$exists": True}}, {"source_file": {"$exists": True}}]})


def remove_vanished(index: HybridIndex, paths: list[str], records: list[Record]) -> int:
    """Delete stored records of files gone from the given folders (also files read through a
    symlink there that is gone), and of gone files elsewhere whose every text this run read
    from a file of the same name (the folder or file moved)."""
    folders = [os.path.realpath(p) + os.sep for p in paths if os.path.isdir(p)]
    stored = _from_files(index)
    read_now = {(os.path.basename(source_of(r.metadata) or ""), r.text) for r in records}
    by_file: dict[str, list[Record]] = {}
    for r in stored:
        src = source_of(r.metadata)
        if src and not os.path.exists(src):
            by_file.setdefault(src, []).append(r)
    gone = [r.id for r in stored if _through_gone_link(r.metadata, folders)]
    for src, rs in by_file.items():
        if any(src.startswith(f) for f in folders) \
                or all((os.path.basename(src), r.text) in read_now for r in rs):
            gone += [r.id for r in rs]
    if gone:
        index.delete(gone)
    return len(set(gone))


def _through_gone_link(metadata: dict[str, Any], folders: list[str]) -> bool:
    """Read through a symlink in one of `folders` that is gone or points elsewhere now."""
    via = metadata.get(VIA_KEY)
    return isinstance(via, str) and any(via.startswith(f) for f in folders) \
        and os.path.realpath(via) != source_of(metadata)
