"""`hybridstore search --explain` and `hybridstore why-not ID QUERY`, on an on-disk index of
$HYBRIDSTORE_ENGINE: the table and the stages print the core's explanation (the --json
variants give it whole), nothing of their own."""

from __future__ import annotations

import json

import pytest

from hybridstore import HybridIndex, Models, Record, explain

from .test_cli import ENGINE, run

ROWS = [("guitar", "A man is playing a guitar on the street.", "music"),
        ("piano", "The pianist performed a Chopin nocturne at the concert hall.", "music"),
        ("rates", "Interest rates rose again, the central bank said.", "finance"),
        ("cats", "Cats sleep for most of the day and hunt at night.", "animals")]
Q = "guitar music on the street"


@pytest.fixture
def store(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": i, "text": t, "metadata": {"topic": m}}) + "\n" for i, t, m in ROWS))
    where = ["--path", str(tmp_path / "index")]
    assert run(capsys, *where, "ingest", str(rows))[0] == 0
    return where


def hits_json(capsys, where, *options):
    code, out, err = run(capsys, *where, "search", Q, "-k", "3", *options, "--json")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_search_explain_prints_a_row_per_hit_from_the_explanation(store, capsys):
    code, out, err = run(capsys, *store, "search", Q, "-k", "3", "--fusion", "rrf", "--explain")
    assert code == 0, err
    table = out.split("\n\n")[1]  # after the hits
    header, *rows, legend = table.splitlines()
    assert header.split() == ["rank", "dense", "sparse", "fused", "rerank", "terms", "id"]
    assert legend.startswith("(a branch: #rank")
    found = hits_json(capsys, store, "--fusion", "rrf", "--explain")
    assert len(rows) == len(found) == 3
    for row, hit in zip(rows, found, strict=True):
        e = hit["explanation"]
        assert row.split()[0] == str(hit["rank"]) and row.endswith(f"  {hit['id']}") and e["rank"] == hit["rank"]
        dense, sparse = e["branches"]
        assert f"#{dense['rank']} {dense['score']:.4f} +{dense['contribution']:.4f}" in row
        assert f" {e['fusion']['score']:.4f} " in row and abs(e["fusion"]["score"] - hit["score"]) < 1e-5
        assert e["rerank"] is None and "  -  " in row
        for term in sparse["terms"][:explain.TERMS_SHOWN]:
            assert f"{term['token']}={term['contribution']:.3g}" in row
    assert "guitar=" in rows[0] and "street=" in rows[0]
    assert all("explanation" not in h for h in hits_json(capsys, store))  # only when asked


def test_search_explain_shows_mmrs_reordering_and_each_hits_group(store, capsys):
    """--mmr: a column with each hit's rank by relevance alone and the places MMR moved it;
    --group-by: a column with its group (the core's brief, as --json gives it whole)."""
    code, out, err = run(capsys, *store, "search", Q, "-k", "3", "--mmr", "0.3", "--no-rerank", "--explain")
    assert code == 0, err
    header, *rows, _ = out.split("\n\n")[1].splitlines()
    found = hits_json(capsys, store, "--mmr", "0.3", "--no-rerank", "--explain")
    kinds = [b["kind"] for b in found[0]["explanation"]["branches"]]  # MMR's pool: the dense branch's
    assert header.split() == ["rank", *kinds, "fused", "rerank", "mmr", "terms", "id"]
    for row, hit in zip(rows, found, strict=True):
        m = hit["explanation"]["mmr"]
        assert f"  #{m['rank_before']} {m['rank_before'] - m['rank']:+d}  " in row and m["rank"] == hit["rank"]
    assert any(h["explanation"]["mmr"]["rank_before"] != h["rank"] for h in found)  # MMR reordered some
    code, out, err = run(capsys, *store, "search", Q, "-k", "3", "--group-by", "topic", "--group-size", "2", "--explain")
    assert code == 0, err
    header, *rows, _ = out.split("\n\n")[1].splitlines()
    assert header.split() == ["rank", "dense", "sparse", "fused", "rerank", "group", "terms", "id"]
    found = hits_json(capsys, store, "--group-by", "topic", "--group-size", "2", "--explain")
    assert len(rows) == len(found) == 4  # music's two, finance's and animals' one each
    for row, hit in zip(rows, found, strict=True):
        assert f"  topic={hit['metadata']['topic']!r}  " in row
        assert hit["explanation"]["group"] == {"by": "topic", "keys": [hit["metadata"]["topic"]]}


def test_search_explain_shows_the_boosts_rank_before_and_multiplier(store, capsys):
    """--boost: a column with each hit's rank before the boost and its score's multiplier."""
    boost = json.dumps({"match": [[{"topic": "finance"}, 50.0]]})
    code, out, err = run(capsys, *store, "search", Q, "-k", "3", "--boost", boost, "--no-rerank", "--explain")
    assert code == 0, err
    header, *rows, legend = out.split("\n\n")[1].splitlines()
    assert header.split() == ["rank", "dense", "sparse", "fused", "rerank", "boost", "terms", "id"]
    assert "boost: #rank before it, x the score's multiplier" in legend
    found = hits_json(capsys, store, "--boost", boost, "--no-rerank", "--explain")
    assert found[0]["id"] == "rates"  # the finance record, lifted by x50
    for row, hit in zip(rows, found, strict=True):
        b = hit["explanation"]["boost"]
        assert f"  #{b['rank_before']} x{b['multiplier']:.4g}  " in row
    assert found[0]["explanation"]["boost"]["rank_before"] > 1


def test_search_explain_json_is_the_cores_explanation(store, capsys, tmp_path):
    found = hits_json(capsys, store, "--explain", "--mode", "sparse")
    with HybridIndex("hybridstore", Models(), path=str(tmp_path / "index"), engine=ENGINE) as idx:
        hits = idx.search(Q, 3, mode="sparse", explain=True)
    assert [h["explanation"] for h in found] == [explain.as_dict(h.explanation) for h in hits]


def test_why_not_prints_the_first_reason_and_the_stages(store, capsys):
    code, out, err = run(capsys, *store, "why-not", "cats", Q, "-k", "2", "--fusion", "rrf")
    assert code == 0, err
    verdict, header, dense, sparse, fused = out.splitlines()
    code, as_json, _ = run(capsys, *store, "why-not", "cats", Q, "-k", "2", "--fusion", "rrf", "--json")
    why = json.loads(as_json)
    assert verdict == f"'cats' is not in the top 2: {why['reason']}"
    assert header.split() == ["stage", "rank", "score", "note"]
    e = why["explanation"]
    for line, branch, rank in zip((dense, sparse), e["branches"], why["branch_ranks"], strict=True):
        assert line.split()[0] == branch["kind"] and line.split()[1] == ("-" if rank is None else str(rank))
    assert sparse.endswith("no query term in common")
    assert fused.split()[:3] == ["fused", str(e["fusion"]["rank"]), f"{e['fusion']['score']:.4f}"]


def test_why_not_in_the_top_k_filtered_out_and_unknown(store, capsys):
    top = hits_json(capsys, store)[0]["id"]
    assert run(capsys, *store, "why-not", top, Q)[1] == f"'{top}' is #1 of the top 5\n"
    code, out, _ = run(capsys, *store, "why-not", "guitar", Q, "--filter", '{"topic": "finance"}')
    assert code == 0 and out.startswith("'guitar' is not in the top 5: filtered out: it fails Match(")
    assert out.count("\n") == 1  # no stages to show: the filter keeps it out of all of them
    code, out, _ = run(capsys, *store, "why-not", "nope", Q, "--json")
    assert json.loads(out) == {"id": "nope", "rank": None, "reason": "no record has id 'nope'",
                               "branch_ranks": [], "explanation": None}


def explain_record(i: str, t: str, m: str) -> Record:
    return Record(i, t, {"topic": m})


def test_why_not_finds_a_tenants_record_as_search_does(tmp_path, capsys):
    """The CLI opens the unscoped index: a tenant's record is found by its id, as `search`
    finds it. (Before: "no record has id 'rates'".)"""
    where = ["--path", str(tmp_path / "index")]
    with HybridIndex("hybridstore", Models(), path=str(tmp_path / "index"), tenant_key="tenant") as index:
        index.tenant("north").add([explain_record(i, t, m) for i, t, m in ROWS])
    top = hits_json(capsys, where)[0]["id"]
    assert run(capsys, *where, "why-not", top, Q)[1] == f"'{top}' is #1 of the top 5\n"
    code, out, _ = run(capsys, *where, "why-not", "rates", Q, "-k", "1", "--json")
    assert code == 0 and json.loads(out)["reason"] != "no record has id 'rates'" and json.loads(out)["rank"] is None
