"""The command-line main job, run in-process on tiny real inputs."""

import json

import pytest

from hybridstore.cli import main


@pytest.fixture
def docs(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "guitars.md").write_text("# Guitars\n\nAn acoustic guitar has six strings.\n\n"
                                  + "Electric guitars need an amplifier. " * 60)
    (d / "cats.txt").write_text("Cats sleep most of the day and hunt at night.")
    (d / "notes.jsonl").write_text(
        json.dumps({"id": "n1", "text": "Interest rates rose again.", "metadata": {"topic": "finance"}})
        + "\n" + json.dumps({"id": "n2", "text": "Volcanoes erupt ash.", "metadata": {"topic": "nature"}})
        + "\n")
    return d


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ingest_search_info_on_disk(tmp_path, docs, capsys):
    store = ["--path", str(tmp_path / "index"), "--collection", "docs"]
    code, out, _ = run(capsys, *store, "ingest", str(docs), "--chunk-size", "400")
    assert code == 0 and "indexed" in out
    count = int(out.rsplit("holds ", 1)[1])
    assert count >= 5  # the long markdown file was chunked

    code, out, _ = run(capsys, *store, "search", "central bank interest rates", "-k", "2", "--json")
    hits = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and hits[0]["id"] == "n1" and hits[0]["metadata"] == {"topic": "finance"}

    code, out, _ = run(capsys, *store, "search", "strings", "-k", "3", "--filter", '{"chunk": 0}')
    assert code == 0 and "guitars.md#0" in out and " 1. " in out

    code, out, _ = run(capsys, *store, "info")
    info = json.loads(out)
    assert info["count"] == count and info["exists"] and len(info["vectors"]) == 2


def test_errors_are_reported_not_raised(tmp_path, capsys):
    code, _, err = run(capsys, "--path", str(tmp_path / "empty"), "search", "anything")
    assert code == 2 and "does not exist; add records first" in err


def test_eval_prints_metrics_per_mode(tmp_path, capsys):
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    corpus = {"d1": ("Guitars", "An acoustic guitar has six strings."),
              "d2": ("Cats", "Cats sleep most of the day."),
              "d3": ("Rates", "The central bank raised interest rates."),
              "d4": ("Volcano", "The volcano erupted and ash fell on villages.")}
    (beir / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in corpus.items()))
    (beir / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "how many strings does a guitar have"}) + "\n"
        + json.dumps({"_id": "q2", "text": "interest rates of the central bank"}) + "\n"
        + json.dumps({"_id": "q3", "text": "not judged"}) + "\n")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n")
    out_json = tmp_path / "eval.json"
    code, out, _ = run(capsys, "--location", ":memory:", "--late", "colbert-ir/colbertv2.0",
                       "eval", str(beir), "--json-out", str(out_json))
    assert code == 0 and "(2 queries)" in out
    rows = json.loads(out_json.read_text())
    assert [r["mode"] for r in rows] == ["dense", "sparse", "hybrid", "hybrid+rerank"]
    for row in rows:
        assert row["recall@100"] == 1.0
    assert rows[0]["ndcg@10"] == 1.0 and rows[2]["ndcg@10"] == 1.0


def test_reembed_adds_a_late_interaction_model(tmp_path, docs, capsys):
    store = ["--path", str(tmp_path / "index"), "--collection", "docs"]
    assert run(capsys, *store, "ingest", str(docs / "notes.jsonl"))[0] == 0
    late = [*store, "--late", "colbert-ir/colbertv2.0"]
    code, _, err = run(capsys, *late, "search", "volcano", "--rerank")
    assert code != 0 and "reembed() adds missing vectors" in err
    code, out, _ = run(capsys, *late, "reembed")
    assert code == 0 and '"late": 2' in out
    code, out, _ = run(capsys, *late, "search", "volcano ash", "-k", "1", "--rerank", "--json")
    assert code == 0 and json.loads(out)["id"] == "n2"
