"""`hybridstore eval --report FILE.html`: eval's figures (the rows --json-out writes) as one
self-contained HTML file (inline SVG, no script, no network): nDCG@10 and Recall@100 per mode,
each mode's per-query nDCG@10, and the queries where hybrid lost to a single branch, the worst
of them explained by the core (`search(explain=True)`, `why_not`). Every text shown is escaped."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from .. import explain
from . import UsageError

if TYPE_CHECKING:
    from ..index import HybridIndex

Row = dict[str, Any]  # one mode's row, as --json-out writes it
LISTED = 20  # losing queries listed
EXPLAINED = 3  # of them, explained
DEPTH = 100  # the hits eval's searches ask for (Recall@100)
TOP = 10  # the hits shown of an explained search (nDCG@10's cut-off)
BRANCHES = ("dense", "sparse")


class Standing(TypedDict):
    """One judged-relevant document in hybrid's search of a losing query."""
    id: str
    grade: int
    rank: int | None  # in hybrid's results (None: not among them)
    said: str  # its explanation in one line, or why_not's reason


class Lost(TypedDict):
    id: str
    text: str
    ndcg: dict[str, float]  # per mode
    margin: float  # the best single branch's nDCG@10 minus hybrid's
    by: str  # that branch
    hits: list[tuple[str, int, str]]  # hybrid's top hits: id, judged grade, explanation in one line
    relevant: list[Standing]


def losses(rows: Sequence[Row], texts: Mapping[str, str]) -> list[Lost]:
    """The queries where hybrid's nDCG@10 is below dense's or sparse's, largest margin first."""
    per = {r["mode"]: r["queries"] for r in rows if "queries" in r}
    if "hybrid" not in per or not any(b in per for b in BRANCHES):
        return []
    out: list[Lost] = []
    for qid, fig in per["hybrid"].items():
        best = max((b for b in BRANCHES if b in per), key=lambda b: per[b][qid]["ndcg@10"])
        margin = per[best][qid]["ndcg@10"] - fig["ndcg@10"]
        if margin > 0:
            out.append(Lost(id=qid, text=texts[qid], ndcg={m: q[qid]["ndcg@10"] for m, q in per.items()},
                            margin=margin, by=best, hits=[], relevant=[]))
    out.sort(key=lambda x: (-x["margin"], x["id"]))
    return out[:LISTED]


def explain_worst(index: HybridIndex, lost: list[Lost], qrels: Mapping[str, Mapping[str, int]],
                  options: Mapping[str, Any]) -> None:
    """The first EXPLAINED losses, explained as eval searched them (DEPTH hits, eval's hybrid
    `options`): the top hits with their judgements, and where each judged-relevant document
    stands and why."""
    for item in lost[:EXPLAINED]:
        judged = qrels[item["id"]]
        hits = index.search(item["text"], DEPTH, explain=True, **options)
        said = {h.record.id: explain.said(h.explanation) for h in hits if h.explanation is not None}
        item["hits"] = [(h.record.id, judged.get(h.record.id, 0), said[h.record.id]) for h in hits[:TOP]]
        ranks = {h.record.id: n for n, h in enumerate(hits, 1)}
        for doc, grade in sorted(judged.items(), key=lambda d: (-d[1], d[0])):
            if grade <= 0:
                continue
            if doc in ranks:
                item["relevant"].append(Standing(id=doc, grade=grade, rank=ranks[doc], said=said[doc]))
                continue
            why = index.why_not(item["text"], doc, DEPTH, **options)
            kinds = [b.kind for b in why.explanation.branches] if why.explanation else list(BRANCHES)
            ranks_in = ", ".join(f"{b} #{r}" if r is not None else f"{b} -"
                                 for b, r in zip(kinds, why.branch_ranks, strict=False))
            whole = f" (in each branch's whole ranking: {ranks_in})" if ranks_in else ""
            item["relevant"].append(Standing(id=doc, grade=grade, rank=None, said=f"{why.reason}{whole}"))


def read_rows(path: Path) -> list[Row]:
    """An earlier eval's --json-out, checked: a list of modes, each with its per-query figures."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise UsageError(f"{path} is not JSON ({e.msg} at line {e.lineno}): give a file eval's --json-out wrote") from None
    return checked_rows(rows, str(path))


def checked_rows(rows: object, name: str) -> list[Row]:
    """Rows as eval's --json-out writes them, or UsageError saying what `name` is instead."""
    fields = {"mode", "ndcg@10", "recall@100", "p50_ms", "queries"}
    if not isinstance(rows, list) or not all(
            isinstance(r, dict) and ("error" in r and "mode" in r or fields <= r.keys()) for r in rows):
        raise UsageError(f"{name} is not a list of modes with per-query figures, as eval's --json-out "
                         "writes since --report exists: run eval again with --json-out (or --report)")
    return rows


def html(rows: Sequence[Row], lost: Sequence[Lost], title: str, explained: bool = True) -> str:
    """The whole page; `title` names the dataset (no path). Not `explained`: made from a
    --json-out file, without the index."""
    parts = [(f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>hybridstore eval: {escape(title)}</title><style>{STYLE}</style></head><body>"),
             f"<h1>hybridstore eval: {escape(title)}</h1>", *charts(rows, lost),
             *(_explained(x) for x in lost[:EXPLAINED] if x["hits"] or x["relevant"]),
             "" if explained or not lost else NOT_EXPLAINED,
             "</body></html>\n"]
    return "\n".join(parts)


def charts(rows: Sequence[Row], lost: Sequence[Lost]) -> list[str]:
    """The figures without the page around them (the report's, and the inspector's): the modes'
    table and bars, each mode's per-query spread, the queries hybrid lost."""
    good = [r for r in rows if "error" not in r]
    return ["<h2>nDCG@10 and Recall@100 per mode</h2>", _modes(rows),
            _bars(good, "ndcg@10"), _bars(good, "recall@100"),
            "<h2>Per-query nDCG@10 (each mode's queries, best first)</h2>",
            *(_spread(r) for r in good if "queries" in r),
            "<h2>Queries where hybrid lost to a single branch</h2>", _lost(lost)]


NOT_EXPLAINED = ("<p id=\"not-explained\">Not explained: this page was made from a --json-out file, "
                 "without the index. <code>hybridstore eval --report</code> explains the first "
                 f"{EXPLAINED}.</p>")
STYLE = ("body{font-family:sans-serif;max-width:70em;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
         "text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
         "svg{display:block;margin:.5em 0}.rel{background:#e6f4e6}")


def _num(x: float) -> str:
    return f"{x:.4f}"


def _modes(rows: Sequence[Row]) -> str:
    """The figures: shown to 4 places, carried exactly (repr) in data- attributes."""
    out = ["<table id=\"modes\"><tr><th>mode</th><th>nDCG@10</th><th>Recall@100</th><th>p50 ms</th></tr>"]
    for r in rows:
        m = escape(r["mode"])
        if "error" in r:
            out.append(f"<tr class=\"failed\" data-mode=\"{m}\"><td>{m}</td><td colspan=\"3\">failed: "
                       f"{escape(r['error'])}</td></tr>")
            continue
        out.append(f"<tr class=\"mode\" data-mode=\"{m}\" data-ndcg=\"{r['ndcg@10']!r}\" "
                   f"data-recall=\"{r['recall@100']!r}\"><td>{m}</td><td class=\"n\">{_num(r['ndcg@10'])}</td>"
                   f"<td class=\"n\">{_num(r['recall@100'])}</td><td class=\"n\">{r['p50_ms']:.1f}</td></tr>")
    return "".join(out) + "</table>"


def _bars(rows: Sequence[Row], key: str) -> str:
    """One horizontal bar per mode, 0..1 across 400 pixels."""
    h = 22
    out = [(f"<svg class=\"bars\" data-metric=\"{key}\" width=\"620\" height=\"{h * len(rows) + 24}\" "
           f"role=\"img\" aria-label=\"{key} per mode\"><text x=\"0\" y=\"14\">{key}</text>")]
    for i, r in enumerate(rows):
        y = 20 + i * h
        out.append(f"<text x=\"0\" y=\"{y + 14}\">{escape(r['mode'])}</text><rect x=\"120\" y=\"{y}\" "
                   f"width=\"{400 * r[key]:.1f}\" height=\"{h - 4}\" fill=\"#4a7ab5\" "
                   f"data-mode=\"{escape(r['mode'])}\" data-value=\"{r[key]!r}\"/>"
                   f"<text x=\"{126 + 400 * r[key]:.1f}\" y=\"{y + 14}\">{_num(r[key])}</text>")
    return "".join(out) + "</svg>"


def _spread(r: Row) -> str:
    """The mode's per-query nDCG@10, sorted, one thin bar each (its query's id as a tooltip)."""
    figures = sorted(r["queries"].items(), key=lambda q: (-q[1]["ndcg@10"], q[0]))
    w = max(1.0, min(8.0, 600 / max(len(figures), 1)))
    out = [(f"<h3>{escape(r['mode'])}</h3><svg class=\"spread\" data-mode=\"{escape(r['mode'])}\" "
           f"width=\"{w * len(figures) + 2:.0f}\" height=\"102\" role=\"img\" "
           f"aria-label=\"per-query nDCG@10 of {escape(r['mode'])}\">")]
    for i, (qid, fig) in enumerate(figures):
        v = fig["ndcg@10"]
        out.append(f"<rect x=\"{i * w:.2f}\" y=\"{100 - 100 * v:.2f}\" width=\"{w:.2f}\" "
                   f"height=\"{100 * v:.2f}\" fill=\"#4a7ab5\" data-query=\"{escape(qid)}\" "
                   f"data-ndcg=\"{v!r}\"><title>{escape(qid)}: {_num(v)}</title></rect>")
    zero = sum(1 for _, f in figures if f["ndcg@10"] == 0)
    return "".join(out) + f"</svg><p>{len(figures)} queries; {zero} with nDCG@10 = 0</p>"


def _lost(lost: Sequence[Lost]) -> str:
    if not lost:
        return "<p>None: hybrid's nDCG@10 is at least each branch's on every query (or a mode is missing).</p>"
    modes = list(lost[0]["ndcg"])
    out = ["<table id=\"lost\"><tr><th>query</th><th>text</th>",
           *(f"<th>{escape(m)}</th>" for m in modes), "<th>lost to</th><th>by</th></tr>"]
    for x in lost:
        out.append(f"<tr class=\"lost\" data-query=\"{escape(x['id'])}\"><td>{escape(x['id'])}</td>"
                   f"<td>{escape(x['text'])}</td>"
                   + "".join(f"<td class=\"n\" data-mode=\"{escape(m)}\" data-ndcg=\"{x['ndcg'][m]!r}\">"
                             f"{_num(x['ndcg'][m])}</td>" for m in modes)
                   + f"<td>{escape(x['by'])}</td><td class=\"n\">{_num(x['margin'])}</td></tr>")
    return "".join(out) + "</table>"


def _explained(x: Lost) -> str:
    out = [(f"<section class=\"explained\" data-query=\"{escape(x['id'])}\"><h3>Why hybrid lost on "
           f"{escape(x['id'])}: {escape(x['text'])}</h3><p>The judged-relevant documents in hybrid's "
           "search (branch ranks among each branch's candidates; not found: the first reason):</p>"
           "<table class=\"relevant\"><tr><th>id</th><th>grade</th><th>hybrid rank</th><th>why</th></tr>")]
    out += [f"<tr data-doc=\"{escape(s['id'])}\"><td>{escape(s['id'])}</td><td class=\"n\">{s['grade']}</td>"
            f"<td class=\"n\">{'-' if s['rank'] is None else s['rank']}</td><td>{escape(s['said'])}</td></tr>"
            for s in x["relevant"]]
    out.append(f"</table><p>Hybrid's top {TOP} (judged relevant shaded):</p><table class=\"hits\">"
               "<tr><th>rank</th><th>id</th><th>grade</th><th>explanation</th></tr>")
    out += [f"<tr class=\"{'rel' if grade > 0 else 'other'}\" data-doc=\"{escape(doc)}\"><td class=\"n\">{n}</td>"
            f"<td>{escape(doc)}</td><td class=\"n\">{grade}</td><td>{escape(said)}</td></tr>"
            for n, (doc, grade, said) in enumerate(x["hits"], 1)]
    return "".join(out) + "</table></section>"
