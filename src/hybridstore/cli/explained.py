"""`hybridstore search --explain` (a table, one row per hit) and `hybridstore why-not ID QUERY`
(the record's stages and the first reason): the core's explanations (`hybridstore.explain`)
printed, nothing computed here."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from .. import explain
from ..records import Hit
from ..whynot import WhyNot
from . import opening


def search_options(args: argparse.Namespace) -> dict[str, Any]:
    """The search keywords of the command line's search options (search, why-not)."""
    return {"mode": args.mode, "rerank": args.rerank, "fusion": args.fusion, "filter": args.filter,
            "boost": args.boost}


def table(hits: Sequence[Hit]) -> list[str]:
    """One row per hit: its rank, each branch's "#rank score +share", the fused score, the
    rerank's change, the boost's (a boosted search's: the rank before it and the score's
    multiplier), MMR's (where the search picked by MMR), its group (a grouped search's), the best
    matched terms, and its id (last: ids vary in length)."""
    briefs = [(h.record.id, explain.brief(h.explanation)) for h in hits if h.explanation is not None]
    if not briefs:
        return []
    kinds = [b["kind"] for b in briefs[0][1]["branches"]]
    boost = any(b["boost"] is not None for _, b in briefs)
    mmr = any(b["mmr"] is not None for _, b in briefs)
    group = any(b["group"] is not None for _, b in briefs)
    rows = [["rank", *kinds, "fused", "rerank", *(["boost"] if boost else []), *(["mmr"] if mmr else []), *(["group"] if group else []),
             "terms", "id"]]
    for rid, b in briefs:
        r, m, x = b["rerank"], b["mmr"], b["boost"]
        rows.append([str(b["rank"]), *(_cell(x) for x in b["branches"]),
                     "-" if b["fused"] is None else f"{b['fused']:.4f}",
                     "-" if r is None else _moved(r["rank_before"], r["change"]),
                     *([f"#{x['rank_before']} x{x['multiplier']:.4g}" if x else "-"] if boost else []),
                     *([_moved(m["rank_before"], m["change"]) if m else "-"] if mmr else []),
                     *([b["group"] or "-"] if group else []),
                     ", ".join(t for x in b["branches"] for t in x["terms"]) or "-", rid])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows]
    return [*lines, LEGEND]


def _moved(rank_before: int, change: int) -> str:
    """A stage's reordering: the hit's rank before it, and the places it gained."""
    return f"#{rank_before} {change:+d}"


LEGEND = ("(a branch: #rank among its candidates, raw score, +share of the fused score; - not a "
          "candidate; rerank, mmr: #rank before it, places gained; boost: #rank before it, x the "
          "score's multiplier; --json says why)")


def _cell(b: explain.BranchBrief) -> str:
    score = "" if b["score"] is None else f" {b['score']:.4f}"
    share = "" if b["contribution"] is None or b["rank"] is None else f" +{b['contribution']:.4f}"
    return f"#{b['rank']}{score}{share}" if b["rank"] is not None else f"-{score}"


def cmd_why_not(args: argparse.Namespace) -> int:
    with opening.index(args, existing=True) as index:
        why = index.why_not(args.query, args.id, args.k, **search_options(args))
    if args.json:
        print(json.dumps(as_json(why)))
    else:
        print("\n".join(said(why, args.k)))
    return 0


def as_json(why: WhyNot) -> dict[str, Any]:
    return {"id": why.id, "rank": why.rank, "reason": why.reason, "branch_ranks": list(why.branch_ranks),
            "explanation": None if why.explanation is None else explain.as_dict(why.explanation)}


def said(why: WhyNot, k: int) -> list[str]:
    """The verdict, then each stage: the record's rank and score there."""
    if why.reason is None:
        return [f"{why.id!r} is #{why.rank} of the top {k}"]
    lines = [f"{why.id!r} is not in the top {k}: {why.reason}"]
    e = why.explanation
    if e is None:
        return lines
    lines.append("stage      rank     score     note")
    for b, whole in zip(e.branches, why.branch_ranks, strict=True):
        rank = "-" if whole is None else str(whole)
        note = "a candidate" if b.rank is not None else f"{b.absent} {b.limit}" if b.score is not None else b.absent
        lines.append(_stage(b.kind, rank, b.score, note or ""))
    if e.fusion is not None:
        lines.append(_stage("fused", str(e.fusion.rank or "-"), e.fusion.score, e.fusion.method))
    if e.rerank is not None:
        lines.append(_stage("reranked", str(e.rerank.rank or "-"), e.rerank.score, e.rerank.vector))
    return lines


def _stage(name: str, rank: str, score: float | None, note: str) -> str:
    shown = "-" if score is None else f"{score:.4f}"
    return f"{name:<10} {rank:<8} {shown:<9} {note}"
