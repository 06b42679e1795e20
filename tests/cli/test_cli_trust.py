"""The command line never answers wrong without saying so: ids claimed by another file, --sync
after moves and removed links, what a folder with a corpus.jsonl is, what eval searches."""

import json

from ..conftest import SCIFACT
from .test_cli import docs, holds, run, write_beir  # noqa: F401 (docs: a fixture)


def rows(path, *pairs):
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in pairs))
    return path


def texts(capsys, store, query, k=10):
    code, out, _ = run(capsys, *store, "search", query, "-k", str(k), "--json")
    assert code == 0
    return {json.loads(line)["id"]: json.loads(line)["text"] for line in out.splitlines()}


def test_an_id_stored_from_another_file_is_refused_across_runs_unless_replace(tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    first = rows(folder / "rows.jsonl", ("row-5", "Volcanoes erupt ash."), ("row-6", "Cats sleep all day."))
    store = ["--path", str(tmp_path / "index")]
    assert run(capsys, *store, "ingest", str(first))[0] == 0
    other = rows(folder / "other.jsonl", ("row-6", "Rice is a grain."), ("o-1", "Rivers run to the sea."))
    code, out, err = run(capsys, *store, "ingest", str(other))
    assert code == 1 and holds(out) == 3  # o-1 written, row-6 refused
    assert f"{other.resolve()}: id 'row-6' is stored from {first.resolve()}" in err and "--replace" in err
    assert texts(capsys, store, "cats sleeping")["row-6"] == "Cats sleep all day."
    code, out, err = run(capsys, *store, "ingest", str(folder))  # both files: nothing swaps
    assert code == 1 and holds(out) == 3 and "is stored from" in err
    assert texts(capsys, store, "cats sleeping")["row-6"] == "Cats sleep all day."
    code, out, err = run(capsys, *store, "ingest", str(other), "--replace")
    assert code == 0 and holds(out) == 3
    assert texts(capsys, store, "rice grain")["row-6"] == "Rice is a grain."


def test_sync_converges_after_a_folder_moves_and_after_a_symlink_goes(tmp_path, capsys):
    a = tmp_path / "mvA"
    a.mkdir()
    (a / "x.md").write_text("Volcanoes erupt ash and lava.")
    (a / "sub").mkdir()
    (a / "sub" / "y.txt").write_text("Cats sleep most of the day.")
    rows(a / "n.jsonl", ("j1", "Interest rates rose again."))
    outside = tmp_path / "outside.md"
    outside.write_text("Rivers run to the sea.")
    (a / "link.md").symlink_to(outside)
    other = tmp_path / "other"
    other.mkdir()
    (other / "z.md").write_text("Rice is a grain.")
    old = tmp_path / "old"
    old.mkdir()
    (old / "x2.md").write_text("Volcanoes erupt ash and lava.")  # same text, other name
    store = ["--path", str(tmp_path / "index")]
    for folder in (a, other, old):
        assert run(capsys, *store, "ingest", str(folder))[0] == 0
    (old / "x2.md").unlink()
    old.rmdir()
    b = a.rename(tmp_path / "mvB")
    code, out, _ = run(capsys, *store, "ingest", str(b), "--sync")
    assert code == 0 and "2 stale removed" in out and holds(out) == 6  # x, y, j1, link, z, x2
    assert run(capsys, *store, "ingest", str(b), "--sync")[1].count("0 stale removed") == 1
    (b / "link.md").unlink()
    code, out, _ = run(capsys, *store, "ingest", str(b), "--sync")
    assert code == 0 and "1 stale removed" in out and holds(out) == 5
    assert "Rivers run to the sea." not in texts(capsys, store, "rivers sea").values()
    assert "Rice is a grain." in texts(capsys, store, "rice grain").values()  # other folders kept
    code, out, _ = run(capsys, *store, "delete", "--folder", str(old))  # a folder that is gone
    assert code == 0 and "deleted 1 records" in out and holds(out) == 4
    code, out, _ = run(capsys, *store, "delete", "--folder", str(b))
    assert code == 0 and "deleted 3 records" in out and holds(out) == 1


def test_a_link_is_deleted_with_the_folder_it_lies_in(tmp_path, capsys):
    a = tmp_path / "notes"
    a.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text("Rivers run to the sea.")
    (a / "link.md").symlink_to(outside)
    store = ["--path", str(tmp_path / "index")]
    assert holds(run(capsys, *store, "ingest", str(a))[1]) == 1
    code, out, _ = run(capsys, *store, "delete", "--folder", str(a))
    assert code == 0 and "deleted 1 records" in out


def test_a_corpus_jsonl_alone_is_plain_jsonl_and_every_file_left_alone_is_listed(tmp_path, capsys):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    rows(mixed / "corpus.jsonl", ("c1", "Volcanoes erupt ash."), ("c2", "Cats sleep all day."))
    (mixed / "notes.md").write_text("Rice is a grain.")
    (mixed / "table.csv").write_text("a,b\n1,2\n")
    store = ["--path", str(tmp_path / "index")]
    code, out, err = run(capsys, *store, "ingest", str(mixed))
    assert code == 0 and "indexed 3 records from 2 files" in out and holds(out) == 3
    assert "1 file(s) in the folders were left alone" in err and str(mixed / "table.csv") in err
    beir = tmp_path / "beir"
    write_beir(beir)
    (beir / "notes.md").write_text("A note beside the corpus.")
    code, out, err = run(capsys, *store, "ingest", str(beir))
    assert code == 1 and "indexed 6 records from 2 files" in out  # 5 documents (1 empty) and the note
    assert "2 file(s) in the folders were left alone" in err
    assert f"{beir / 'queries.jsonl'} (BEIR queries" in err and str(beir / "qrels" / "test.tsv") in err
    assert texts(capsys, store, "guitar strings")["1"] == "Guitars An acoustic guitar has six strings."


def test_a_beir_corpus_may_name_its_ids_id(tmp_path, capsys):
    beir = tmp_path / "beir"
    write_beir(beir)
    (beir / "corpus.jsonl").write_text(json.dumps({"id": "d1", "title": "T", "text": "Volcanoes erupt."}) + "\n")
    code, out, _ = run(capsys, "--path", str(tmp_path / "index"), "ingest", str(beir))
    assert code == 0 and holds(out) == 1


def test_eval_searches_its_own_collection_never_the_users(tmp_path, docs, capsys):  # noqa: F811 (the fixture)
    write_beir(tmp_path / "beir")
    store = ["--path", str(tmp_path / "index")]
    mine = holds(run(capsys, *store, "ingest", str(docs))[1])
    code, out, err = run(capsys, *store, "eval", str(tmp_path / "beir"), "--modes", "sparse")
    assert code == 0 and "(2 queries, 5 documents)" in out and "collection 'eval-beir-" in err
    code, out, _ = run(capsys, *store, "info")
    assert json.loads(out)["count"] == mine  # the user's collection is as it was
    code, _, err = run(capsys, *store, "--collection", "hybridstore", "eval", str(tmp_path / "beir"))
    assert code == 2 and f"holds {mine} records that are not documents of" in err
    assert "Leave out --collection" in err


def test_eval_with_other_max_docs_evaluates_only_its_documents(tmp_path, capsys):
    write_beir(tmp_path / "beir")
    store = ["--path", str(tmp_path / "index"), "--dense", "none"]
    out_json = tmp_path / "eval.json"
    assert "(2 queries, 5 documents)" in run(capsys, *store, "eval", str(tmp_path / "beir"))[1]
    code, out, err = run(capsys, *store, "eval", str(tmp_path / "beir"), "--max-docs", "0",
                         "--json-out", str(out_json))
    assert code == 0 and "(2 queries, 3 documents)" in out and "removed 2 documents" in err
    again = tmp_path / "fresh.json"
    run(capsys, "--location", ":memory:", "--dense", "none", "eval", str(tmp_path / "beir"),
        "--max-docs", "0", "--json-out", str(again))
    assert json.loads(out_json.read_text())[0]["ndcg@10"] == json.loads(again.read_text())[0]["ndcg@10"]


def test_eval_figures_are_those_of_a_search_through_the_core(tmp_path, capsys):
    """The same documents, added and searched as the library (and both adapters) do."""
    from hybridstore import HybridIndex, Models, beir

    out_json = tmp_path / "eval.json"
    code, out, _ = run(capsys, "--location", ":memory:", "eval", str(SCIFACT), "--max-queries", "6",
                       "--max-docs", "30", "--json-out", str(out_json))
    assert code == 0 and "(6 queries, " in out
    qrels = beir.qrels(SCIFACT)
    queries = beir.queries(SCIFACT)
    qids = sorted(q for q in queries if q in qrels)[:6]
    judged = {d for q in qids for d in qrels[q]}
    corpus = list(beir.corpus_records(SCIFACT))
    evaluated = [r for r in corpus if r.id in judged] + [r for r in corpus if r.id not in judged][:30]
    assert f"{len(evaluated)} documents)" in out
    with HybridIndex("core", Models(), location=":memory:") as index:
        index.add(evaluated)
        for row in json.loads(out_json.read_text()):
            ranked = {q: [h.record.id for h in index.search(queries[q], 100, mode=row["mode"])] for q in qids}
            assert row["ndcg@10"] == beir.mean([beir.ndcg_at(ranked[q], qrels[q], 10) for q in qids])
            assert row["recall@100"] == beir.mean([beir.recall_at(ranked[q], qrels[q], 100) for q in qids])
