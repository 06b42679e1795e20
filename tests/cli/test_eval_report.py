"""`eval --report FILE.html`: the page shows the figures --json-out writes (one computation),
each mode's per-query nDCG@10, the queries where hybrid lost to a branch with the core's
explanation, every text escaped, no path but the dataset's name, nothing fetched."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from hybridstore import beir

from ..conftest import LATE
from .test_cli import run, write_beir

SCRIPT = "<script>alert('KX-7')</script> keyboard"  # hybrid loses on it: sparse lifts kx over keys2


def write_losing_beir(folder: Path) -> None:
    """write_beir's set and a query whose judged document dense ranks first, hybrid second."""
    write_beir(folder)
    docs = [{"_id": "kx", "text": "The KX-7 manual lists part numbers for spare fuses."},
            {"_id": "keys", "title": "Keyboards", "text": "How to change the keyboard layout of a computer and type faster."},
            {"_id": "keys2", "text": "Typing on a mechanical keyboard with a new layout."}]
    with open(folder / "corpus.jsonl", "a", encoding="utf-8") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)
    with open(folder / "queries.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"_id": "q<4>", "text": SCRIPT}) + "\n")
    with open(folder / "qrels" / "test.tsv", "a", encoding="utf-8") as f:
        f.write("q<4>\tkeys2\t1\nq<4>\td4\t1\n")  # d4 is empty: judged, never stored


class Page(HTMLParser):
    """The page's elements (tag, attributes, the classes of its enclosing elements) and texts."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self.texts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a, list(self.open)))
        if tag not in ("rect", "meta"):
            self.open.append(a.get("class", "") + "#" + a.get("id", "") + ":" + a.get("data-query", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("rect", "meta"):
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    def having(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a, _ in self.elements if t == tag and a.get("class") == cls]


def test_the_report_shows_evals_figures_and_explains_where_hybrid_lost(tmp_path, capsys):
    write_losing_beir(tmp_path / "beir")
    out_json, report = tmp_path / "eval.json", tmp_path / "report.html"
    code, out, _ = run(capsys, "--location", ":memory:", "eval", str(tmp_path / "beir"),
                       "--json-out", str(out_json), "--report", str(report))
    assert code == 0 and "(3 queries, 8 documents)" in out
    rows = {r["mode"]: r for r in json.loads(out_json.read_text())}
    text = report.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)

    shown = {a["data-mode"]: a for a in page.having("tr", "mode")}
    assert list(shown) == ["dense", "sparse", "hybrid"]
    for mode, row in rows.items():  # exactly the JSON's figures, means of its per-query ones
        assert float(shown[mode]["data-ndcg"]) == row["ndcg@10"]
        assert float(shown[mode]["data-recall"]) == row["recall@100"]
        assert row["ndcg@10"] == sum(q["ndcg@10"] for q in row["queries"].values()) / 3
        bars = {a["data-value"] for t, a, _ in page.elements if t == "rect" and a.get("data-mode") == mode}
        assert bars == {repr(row["ndcg@10"]), repr(row["recall@100"])}
    spread = [a for t, a, _ in page.elements if t == "rect" and "data-query" in a]
    assert len(spread) == 9  # 3 queries x 3 modes
    per_mode = [a for t, a, _ in page.elements if t == "svg" and a.get("class") == "spread"]
    assert [a["data-mode"] for a in per_mode] == ["dense", "sparse", "hybrid"]
    figures = sorted((a["data-query"], float(a["data-ndcg"])) for a in spread)
    assert figures == sorted((q, f["ndcg@10"]) for r in rows.values() for q, f in r["queries"].items())

    lost = page.having("tr", "lost")
    assert lost and lost[0]["data-query"] == "q<4>"  # the id, escaped and read back
    for a in lost:  # each one listed did lose to a branch
        q = a["data-query"]
        assert rows["hybrid"]["queries"][q]["ndcg@10"] < max(rows[b]["queries"][q]["ndcg@10"] for b in ("dense", "sparse"))
    assert rows["dense"]["queries"]["q<4>"]["ndcg@10"] > rows["hybrid"]["queries"]["q<4>"]["ndcg@10"]
    explained = [enc for t, a, enc in page.elements if t == "tr" and a.get("data-doc") == "keys2"]
    assert explained and all("explained#:q<4>" in e for e in explained)
    rank, said = re.search(r'<tr data-doc="keys2"><td>keys2</td><td class="n">1</td><td class="n">(\d+)</td>'
                           r"<td>(.*?)</td>", text).groups()
    assert rank == "2" and said.startswith("dense #1 ")  # the core's explanation: dense had it first
    assert re.search(r'<tr data-doc="d4"><td>d4</td><td class="n">1</td><td class="n">-</td>'
                     r"<td>no record has id &#x27;d4&#x27;</td>", text)  # why_not's first reason
    top = [a["data-doc"] for t, a, _ in page.elements if t == "tr" and a.get("class") in ("rel", "other")]
    assert len(top) == 8 and beir.ndcg_at(top, {"keys2": 1, "d4": 1}, 10) == rows["hybrid"]["queries"]["q<4>"]["ndcg@10"]
    assert SCRIPT in "".join(page.texts) and f"Why hybrid lost on q<4>: {SCRIPT}" in "".join(page.texts)

    assert "<script" not in text and "&lt;script&gt;" in text  # shown as text, never run
    assert str(tmp_path) not in text and "http" not in text and "src=" not in text  # no path, no fetch


def test_a_report_from_an_earlier_json_out_shows_the_same_figures_unexplained(tmp_path, capsys):
    """No index, no models: the figures and losses of the file, the query texts of the folder."""
    write_losing_beir(tmp_path / "beir")
    rows = [{"mode": "dense", "ndcg@10": 0.75, "recall@100": 1.0, "p50_ms": 3.0,
             "queries": {"q1": {"ndcg@10": 1.0, "recall@100": 1.0}, "q<4>": {"ndcg@10": 0.5, "recall@100": 1.0}}},
            {"mode": "sparse", "error": "no <sparse> model"},
            {"mode": "hybrid", "ndcg@10": 0.625, "recall@100": 1.0, "p50_ms": 4.0,
             "queries": {"q1": {"ndcg@10": 1.0, "recall@100": 1.0}, "q<4>": {"ndcg@10": 0.25, "recall@100": 1.0}}}]
    (tmp_path / "eval.json").write_text(json.dumps(rows))
    report = tmp_path / "report.html"
    code, _, err = run(capsys, "eval", str(tmp_path / "beir"), "--from-json", str(tmp_path / "eval.json"),
                       "--report", str(report))
    assert code == 0, err
    text = report.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    assert [(a["data-mode"], float(a["data-ndcg"])) for a in page.having("tr", "mode")] == [("dense", 0.75), ("hybrid", 0.625)]
    assert "failed: no &lt;sparse&gt; model" in text
    assert [a["data-query"] for a in page.having("tr", "lost")] == ["q<4>"]
    assert SCRIPT in "".join(page.texts) and "<script" not in text
    assert 'id="not-explained"' in text and "explained" not in [a.get("class") for _, a, _ in page.elements]


def test_a_report_from_a_json_out_without_per_query_figures_is_refused(tmp_path, capsys):
    write_beir(tmp_path / "beir")
    old = tmp_path / "old.json"
    old.write_text(json.dumps([{"mode": "dense", "ndcg@10": 0.5, "recall@100": 1.0, "p50_ms": 3.0}]))
    code, _, err = run(capsys, "eval", str(tmp_path / "beir"), "--from-json", str(old), "--report",
                       str(tmp_path / "r.html"))
    assert code == 2 and "run eval again with --json-out" in err and not (tmp_path / "r.html").exists()
    code, _, err = run(capsys, "eval", str(tmp_path / "beir"), "--from-json", str(old))
    assert code == 2 and "give --report FILE.html too" in err
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"mode": "dense", "ndcg@10": 0.5, "recall@100": 1.0, "p50_ms": 3.0,
                                  "queries": {"elsewhere": {"ndcg@10": 0.5, "recall@100": 1.0}}}]))
    code, _, err = run(capsys, "eval", str(tmp_path / "beir"), "--from-json", str(other), "--report",
                       str(tmp_path / "r.html"))
    assert code == 2 and "has queries" in err and "elsewhere" in err


def test_with_a_late_model_the_explained_search_is_hybrids_as_evaluated_not_reranked(tmp_path, capsys):
    write_losing_beir(tmp_path / "beir")
    out_json, report = tmp_path / "eval.json", tmp_path / "report.html"
    code, _, err = run(capsys, "--location", ":memory:", "--late", LATE, "eval", str(tmp_path / "beir"),
                       "--modes", "dense,sparse,hybrid", "--json-out", str(out_json), "--report", str(report))
    assert code == 0, err
    hybrid = next(r for r in json.loads(out_json.read_text()) if r["mode"] == "hybrid")
    text = report.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    for section in page.having("section", "explained"):
        q = section["data-query"]
        top = [a["data-doc"] for t, a, enc in page.elements
               if t == "tr" and a.get("class") in ("rel", "other") and f"explained#:{q}" in enc]
        judged = {"q<4>": {"keys2": 1, "d4": 1}, "q1": {"1": 2}, "q2": {"d3": 1}}[q]
        assert beir.ndcg_at(top, judged, 10) == hybrid["queries"][q]["ndcg@10"]
    assert "q<4>" in [a["data-query"] for a in page.having("section", "explained")]
    assert "rerank" not in text.split('id="lost"')[1]  # no hit's explanation has a rerank stage


def test_a_report_or_json_out_in_a_missing_folder_is_refused_before_evaluating(tmp_path, capsys):
    write_beir(tmp_path / "beir")
    for flag in ("--report", "--json-out"):
        code, out, err = run(capsys, "--location", ":memory:", "--pack", str(tmp_path / "no-pack"), "eval",
                             str(tmp_path / "beir"), flag, str(tmp_path / "missing" / "r.html"))
        assert code == 2 and "its folder does not exist" in err and out == ""  # no model was asked for


def test_losses_are_the_queries_hybrid_scored_below_a_branch_largest_margin_first():
    from hybridstore.cli.eval_report import LISTED, losses

    def row(mode: str, figures: dict[str, float]) -> dict:
        return {"mode": mode, "queries": {q: {"ndcg@10": v, "recall@100": 1.0} for q, v in figures.items()}}

    rows = [row("dense", {"a": 0.9, "b": 0.5, "c": 0.2, "d": 0.4}), row("sparse", {"a": 0.1, "b": 0.8, "c": 0.2, "d": 0.4}),
            row("hybrid", {"a": 0.7, "b": 0.3, "c": 0.2, "d": 0.6}), {"mode": "hybrid+rerank", "error": "x"}]
    found = losses(rows, {q: f"text {q}" for q in "abcd"})
    assert [(x["id"], x["by"], round(x["margin"], 6)) for x in found] == [("b", "sparse", 0.5), ("a", "dense", 0.2)]
    assert found[0]["ndcg"] == {"dense": 0.5, "sparse": 0.8, "hybrid": 0.3} and found[0]["text"] == "text b"
    many = [row(m, {f"q{i}": v for i in range(LISTED + 5)}) for m, v in (("dense", 1.0), ("hybrid", 0.0))]
    assert len(losses(many, {f"q{i}": "t" for i in range(LISTED + 5)})) == LISTED
    assert losses(rows[:1] + rows[2:], {q: "t" for q in "abcd"})[0]["by"] == "dense"  # no sparse mode: dense only
    assert losses(rows[:2], {}) == []  # no hybrid: nothing lost
