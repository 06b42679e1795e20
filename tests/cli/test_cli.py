"""The command-line main job, run in-process on tiny real inputs (and as a process where exit
codes, signals and start-up time matter)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hybridstore.cli import main

from ..conftest import LATE, PACK, ROOT, SCIFACT

ENGINE = os.environ.get("HYBRIDSTORE_ENGINE") or "edge"


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


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def holds(out: str) -> int:
    return int(out.rsplit("now holds ", 1)[1].split()[0])


def test_ingest_search_info_on_disk(tmp_path, docs, capsys):
    store = ["--path", str(tmp_path / "index"), "--collection", "docs"]
    code, out, _ = run(capsys, *store, "ingest", str(docs), "--chunk-size", "400")
    assert code == 0 and "indexed" in out
    count = holds(out)
    assert count >= 5  # the long markdown file was chunked

    code, out, _ = run(capsys, *store, "search", "central bank interest rates", "-k", "2", "--json")
    hits = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and hits[0]["id"] == "n1"
    assert hits[0]["metadata"] == {"topic": "finance", "source": str((docs / "notes.jsonl").resolve())}

    code, out, _ = run(capsys, *store, "search", "strings", "-k", "3", "--filter", '{"chunk": 0}')
    assert code == 0 and "guitars.md#0" in out and " 1. " in out

    code, out, _ = run(capsys, *store, "info")
    info = json.loads(out)
    assert info["count"] == count and info["exists"] and len(info["vectors"]) == 2


def test_ids_are_stable_however_the_path_is_typed(tmp_path, docs, capsys, monkeypatch):
    store = ["--path", str(tmp_path / "index")]
    counts = []
    monkeypatch.chdir(tmp_path)
    for typed in ("docs", str(docs), "./docs/../docs"):
        code, out, _ = run(capsys, *store, "ingest", typed)
        counts.append(holds(out))
    monkeypatch.chdir(docs)
    code, out, _ = run(capsys, *store, "ingest", ".")
    counts.append(holds(out))
    assert code == 0 and len(set(counts)) == 1  # no copies, whatever the path looked like
    assert "0 embedded" in out


def test_a_changed_file_replaces_all_its_chunks_and_sync_removes_vanished_files(tmp_path, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    long = folder / "long.md"
    long.write_text("\n\n".join(f"Paragraph {i} about rivers and mountains. " * 8 for i in range(5)))
    (folder / "keep.txt").write_text("Volcanoes erupt ash and lava.")
    store = ["--path", str(tmp_path / "index")]
    code, out, _ = run(capsys, *store, "ingest", str(folder), "--chunk-size", "400")
    assert code == 0 and holds(out) == 6
    long.write_text("Now one short paragraph about rivers.")
    code, out, _ = run(capsys, *store, "ingest", str(folder), "--chunk-size", "400")
    assert code == 0 and "4 stale removed" in out and holds(out) == 2
    code, out, _ = run(capsys, *store, "search", "paragraph about mountains", "-k", "5", "--json")
    assert [json.loads(line)["text"] for line in out.splitlines()].count(long.read_text()) == 1
    (folder / "keep.txt").unlink()
    code, out, _ = run(capsys, *store, "ingest", str(folder))
    assert holds(out) == 2  # without --sync the vanished file's records stay
    code, out, _ = run(capsys, *store, "ingest", str(folder), "--sync")
    assert code == 0 and "1 stale removed" in out and holds(out) == 1


def test_delete_by_id_document_file_and_filter(tmp_path, docs, capsys):
    store = ["--path", str(tmp_path / "index")]
    code, out, _ = run(capsys, *store, "ingest", str(docs), "--chunk-size", "400")
    total = holds(out)
    code, out, _ = run(capsys, *store, "delete", "--id", "n1", "--id", "not-there")
    assert code == 0 and "deleted 1 records" in out and holds(out) == total - 1
    code, out, _ = run(capsys, *store, "delete", "--doc", "n2")
    assert "deleted 1 records" in out
    code, out, _ = run(capsys, *store, "delete", "--file", str(docs / "cats.txt"))
    assert "deleted 1 records" in out
    code, out, _ = run(capsys, *store, "delete", "--filter", '{"chunk": {"$gte": 1}}')
    assert code == 0 and holds(out) == 1
    code, _, err = run(capsys, *store, "delete")
    assert code == 2 and "needs --id, --doc, --file, --folder or --filter" in err


def odd_inputs(folder: Path) -> None:
    folder.mkdir()
    (folder / "latin1.txt").write_bytes("Café au lait is coffee with hot milk.".encode("latin-1"))
    (folder / "a.jsonl").write_text('{"id": "j1", "text": "Rice is a grain."}\n\n'
                                    '{"id": "j2", "text": "broken line"\n'
                                    '{"id": "j3", "text": ""}\n[1, 2]\n{"id": "j4"}\n')
    (folder / "b.jsonl").write_text('{"id": "j1", "text": "The same id again."}\n')
    (folder / "empty.md").write_text("  \n\n ")
    (folder / "good.md").write_text("Volcanoes erupt ash and lava.")
    (folder / "image.png").write_bytes(b"\x89PNG")
    (folder / "gone.txt").symlink_to(folder / "nowhere.txt")  # listed, then not there to read


def test_bad_input_is_reported_not_fatal(tmp_path, capsys):
    odd_inputs(tmp_path / "odd")
    store = ["--path", str(tmp_path / "index")]
    code, out, err = run(capsys, *store, "ingest", str(tmp_path / "odd"))
    assert code == 1 and holds(out) == 2  # j1 and good.md
    assert "Traceback" not in err and "8 input(s) skipped" in err
    for expected in ("gone.txt: vanished before it was read","latin1.txt: not UTF-8 text (byte 0xe9 at offset 3)", "--encoding latin-1",
                     "a.jsonl:3: not JSON", "a.jsonl:4: empty document", "a.jsonl:5: a JSON list",
                     'a.jsonl:6: no "text"', "b.jsonl:1: id 'j1' was already read from",
                     "a.jsonl:1", "empty.md: empty document", "1 file(s) in the folders were left alone"):
        assert expected in err, expected
    code, out, err = run(capsys, *store, "ingest", str(tmp_path / "odd" / "latin1.txt"),
                         "--encoding", "latin-1")
    assert code == 0 and holds(out) == 3
    code, out, err = run(capsys, *store, "ingest", str(tmp_path / "odd"), "--strict")
    assert code == 2 and "--strict: nothing was written" in err and "indexed" not in out


def test_a_beir_corpus_with_empty_documents_is_ingested_without_them(tmp_path, capsys):
    write_beir(tmp_path / "beir")
    code, out, err = run(capsys, "--path", str(tmp_path / "index"), "ingest", str(tmp_path / "beir"))
    assert code == 1 and holds(out) == 5 and "corpus.jsonl:4: empty document; skipped" in err


def test_progress_moves_with_each_embedding_batch(tmp_path):
    """Each add (and progress step) is one batch of similar-length texts, not 256 records."""
    from hybridstore import HybridIndex, Models, beir
    from hybridstore.cli.ingest import write

    records = list(beir.corpus_records(SCIFACT))[:100]
    with HybridIndex("p", Models(), location=":memory:") as index:
        sizes: list[int] = []
        add = index.add
        index.add = lambda part, **kw: sizes.append(len(part)) or add(part, **kw)
        stats = write(index, records)
        assert sum(sizes) == 100 and max(sizes) <= 32 and len(sizes) >= 4
        assert stats == {"embedded": 100, "unchanged": 0, "payload_only": 0} and index.count() == 100


def test_missing_paths_are_an_error_before_anything_is_read(tmp_path, docs, capsys):
    store = ["--path", str(tmp_path / "index")]
    code, out, err = run(capsys, *store, "ingest", str(docs), str(tmp_path / "does-not-exist"))
    assert code == 2 and "no such file or folder" in err and "does-not-exist" in err and out == ""
    assert not (tmp_path / "index" / "hybridstore").exists()


def test_errors_are_reported_not_raised(tmp_path, capsys):
    (tmp_path / "empty").mkdir()  # a folder without the collection (a missing folder: test_cli_reading)
    code, _, err = run(capsys, "--path", str(tmp_path / "empty"), "search", "anything")
    assert code == 2 and "does not exist; add records first" in err


def test_a_collection_made_with_colbert_refuses_an_ingest_without_it(tmp_path, docs, capsys):
    store = ["--path", str(tmp_path / "index")]
    assert run(capsys, *store, "--late", LATE, "ingest", str(docs / "notes.jsonl"))[0] == 0
    code, _, err = run(capsys, *store, "ingest", str(docs / "cats.txt"))
    assert code == 2 and "'late'" in err and "do not produce" in err and "colbert-ir/colbertv2.0" in err
    code, out, _ = run(capsys, *store, "--late", LATE, "search", "volcano", "-k", "5", "--json")
    assert code == 0 and len(out.splitlines()) == 2


def write_beir(folder: Path) -> None:
    """A small BEIR-format set with the quirks of the public ones: integer and string ids, no
    title key, an empty document, graded judgements (0, 1, 2), queries without judgements, a
    header, a UTF-8 byte-order mark, CRLF line ends and a trailing blank line."""
    (folder / "qrels").mkdir(parents=True)
    corpus = [{"_id": 1, "title": "Guitars", "text": "An acoustic guitar has six strings."},
              {"_id": "d2", "text": "Cats sleep most of the day and hunt at night."},
              {"_id": "d3", "title": "Rates", "text": "The central bank raised interest rates."},
              {"_id": "d4", "title": "", "text": ""},
              {"_id": "d5", "title": "Volcano", "text": "The volcano erupted and ash fell on villages."},
              {"_id": "d6", "title": "Bank", "text": "A river bank is the land beside a river.",
               "metadata": {"url": "x"}}]
    (folder / "corpus.jsonl").write_text("\ufeff" + "".join(json.dumps(d) + "\r\n" for d in corpus) + "\n",
                                         encoding="utf-8")
    queries = [{"_id": "q1", "text": "how many strings does a guitar have"},
               {"_id": "q2", "text": "interest rates of the central bank"},
               {"_id": "q3", "text": "not judged at all"}]
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries) + "\n")
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\r\nq1\t1\t2\r\nq2\td3\t1\r\nq2\td6\t0\r\n\r\n")


def test_eval_serves_what_the_models_can_on_a_beir_set_with_empty_documents(tmp_path, capsys):
    write_beir(tmp_path / "beir")
    out_json = tmp_path / "eval.json"
    code, out, err = run(capsys, "--location", ":memory:", "eval", str(tmp_path / "beir"),
                         "--json-out", str(out_json))
    assert code == 0 and "(2 queries, 5 documents)" in out and "skipped 1 empty documents" in err
    rows = json.loads(out_json.read_text())
    assert [r["mode"] for r in rows] == ["dense", "sparse", "hybrid"]  # no rerank without --late
    assert all(r["recall@100"] == 1.0 for r in rows) and rows[2]["ndcg@10"] == 1.0


def test_eval_prints_every_mode_that_ran_when_one_fails(tmp_path, capsys):
    write_beir(tmp_path / "beir")
    out_json = tmp_path / "eval.json"
    code, out, _ = run(capsys, "--location", ":memory:", "--late", LATE, "eval", str(tmp_path / "beir"),
                       "--rerank-depth", "0", "--json-out", str(out_json))
    rows = json.loads(out_json.read_text())
    assert code == 1 and [r["mode"] for r in rows] == ["dense", "sparse", "hybrid", "hybrid+rerank"]
    assert "fetch_k must be a positive integer" in rows[3]["error"] and "failed:" in out
    assert rows[2]["ndcg@10"] == 1.0
    code, _, err = run(capsys, "--location", ":memory:", "eval", str(tmp_path / "beir"),
                       "--modes", "hybrid+rerank")
    assert code == 2 and "--late" in err


def test_eval_on_a_slice_of_scifact(tmp_path, capsys):
    out_json = tmp_path / "eval.json"
    code, out, _ = run(capsys, "--location", ":memory:", "eval", str(SCIFACT), "--max-queries", "8",
                       "--max-docs", "40", "--json-out", str(out_json))
    rows = json.loads(out_json.read_text())
    assert code == 0 and "(8 queries" in out and [r["mode"] for r in rows] == ["dense", "sparse", "hybrid"]
    assert all(0.3 < r["ndcg@10"] <= 1.0 for r in rows)


def test_reembed_adds_a_late_interaction_model(tmp_path, docs, capsys):
    store = ["--path", str(tmp_path / "index"), "--collection", "docs"]
    assert run(capsys, *store, "ingest", str(docs / "notes.jsonl"))[0] == 0
    late = [*store, "--late", LATE]
    code, _, err = run(capsys, *late, "search", "volcano", "--rerank")
    assert code != 0 and "hybridstore reembed (with the new model's flag, e.g. --late MODEL) adds missing vectors" in err
    code, out, _ = run(capsys, *late, "reembed")
    assert code == 0 and '"late": 2' in out
    code, out, _ = run(capsys, *late, "search", "volcano ash", "-k", "1", "--rerank", "--json")
    assert code == 0 and json.loads(out)["id"] == "n2"


def test_copy_moves_the_collection_to_a_new_folder_with_large_storage(tmp_path, docs, capsys):
    store = ["--path", str(tmp_path / "index"), "--collection", "docs"]
    assert run(capsys, *store, "ingest", str(docs / "notes.jsonl"))[0] == 0
    with pytest.raises(SystemExit):  # argparse's usage error
        run(capsys, *store, "copy")
    assert "--to-path" in capsys.readouterr().err
    code, out, _ = run(capsys, "--storage", "large", *store, "copy", "--to-path", str(tmp_path / "big"),
                       "--to-collection", "moved", "--to-engine", "edge")  # either engine to edge
    assert code == 0 and '"copied": 2' in out and '"verified": 2' in out
    moved = ["--path", str(tmp_path / "big"), "--collection", "moved", "--engine", "edge"]
    code, out, _ = run(capsys, *moved, "search", "volcano ash", "-k", "1", "--json")
    assert code == 0 and json.loads(out)["id"] == "n2"
    code, out, _ = run(capsys, *moved, "info")
    assert code == 0 and json.loads(out)["storage_settings"]["on_disk"] is True
    code, out, _ = run(capsys, *store, "copy", "--to-path", str(tmp_path / "big"), "--to-collection", "moved",
                       "--to-engine", "edge")
    assert code == 0 and '"skipped": 2' in out  # run again: nothing left to copy
    code, _, err = run(capsys, *store, "copy", "--to-path", str(tmp_path / "x"), "--shards", "2")
    assert code != 0 and "need a Qdrant server" in err
    code, out, _ = run(capsys, *store, "copy", "--to-path", str(tmp_path / "index"), "--to-collection", "twin")
    assert code == 0 and '"copied": 2' in out  # within one folder: one engine for both
    code, _, err = run(capsys, "--path", str(tmp_path / "index"), "--collection", "absent", "copy",
                       "--to-path", str(tmp_path / "y"))
    assert code != 0 and "'absent' does not exist: nothing to copy" in err
    assert not (tmp_path / "y").exists()  # refused before the target was made


def test_snapshot_and_restore_commands(tmp_path, docs, capsys):
    store = ["--path", str(tmp_path / "index"), "--collection", "docs"]
    assert run(capsys, *store, "ingest", str(docs / "notes.jsonl"))[0] == 0
    snap = str(tmp_path / "docs.snap")
    code, out, _ = run(capsys, *store, "snapshot", snap)
    assert code == 0 and '"points": 2' in out
    assert run(capsys, *store, "delete", "--id", "n1")[0] == 0
    code, _, err = run(capsys, *store, "restore", snap)
    assert code == 2 and "holds 1 points" in err and "--replace" in err
    code, out, _ = run(capsys, *store, "restore", snap, "--replace")
    assert code == 0 and '"points": 2' in out
    code, out, _ = run(capsys, *store, "search", "interest rates", "-k", "1", "--json")
    assert code == 0 and json.loads(out)["id"] == "n1"
    code, _, err = run(capsys, *store, "restore", str(tmp_path / "absent.snap"))
    assert code == 2 and "no snapshot file" in err
    (tmp_path / "bad.snap").write_bytes(b"id,text\n1,hello\n")
    fresh = ["--path", str(tmp_path / "fresh"), "--collection", "docs"]
    code, _, err = run(capsys, *fresh, "restore", str(tmp_path / "bad.snap"))
    assert code == 2 and "not a hybridstore snapshot" in err
    assert not (tmp_path / "fresh").exists()  # refused before the folder was made


def test_snapshot_restore_and_delete_run_without_a_model_pack(tmp_path, docs, capsys, monkeypatch):
    """They embed nothing: a backup must not need the models (nor the options) that wrote it.
    `info` still compares with the models configured, but shows what is stored first."""
    store = ["--path", str(tmp_path / "index"), "--collection", "docs"]
    assert run(capsys, *store, "--sparse", "prithivida/Splade_PP_en_v1", "ingest", str(docs / "notes.jsonl"))[0] == 0
    monkeypatch.delenv("HYBRIDSTORE_MODELS")
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path / "empty-cache"))
    code, _, err = run(capsys, *store, "search", "interest rates")
    assert code == 2 and "No model pack is set" in err  # what embeds still needs its models
    code, out, err = run(capsys, *store, "info")  # refused, after saying which models it needs
    stored = json.loads(out)
    assert code == 2 and "No model pack is set" in err and "the collection as stored" in err
    assert [(v["name"], v["configured_model"]) for v in stored["vectors"]] == [("dense", None), ("sparse", None)]
    assert "prithivida/Splade_PP_en_v1" in stored["vectors"][1]["stored_model"] and stored["count"] == 2
    assert stored["models"] is None and "No model pack is set" in stored["models_error"]
    snap = str(tmp_path / "docs.snap")
    code, out, err = run(capsys, *store, "snapshot", snap)
    assert code == 0 and '"points": 2' in out, err
    monkeypatch.setenv("HYBRIDSTORE_MODELS", str(tmp_path / "no-pack"))  # a pack that is not there
    code, out, err = run(capsys, *store, "delete", "--id", "n1")
    assert code == 0 and "deleted 1 records" in out and "now holds 1" in out, err
    code, out, err = run(capsys, *store, "restore", snap, "--replace")
    assert code == 0 and '"points": 2' in out, err
    monkeypatch.setenv("HYBRIDSTORE_MODELS", str(PACK))
    code, out, _ = run(capsys, *store, "--sparse", "prithivida/Splade_PP_en_v1", "search", "interest rates",
                       "-k", "1", "--json")
    assert code == 0 and json.loads(out)["id"] == "n1"


def test_truncation_is_one_note_per_model_with_totals(tmp_path, capsys):
    long = tmp_path / "long.jsonl"
    long.write_text("".join(json.dumps({"id": f"l{i}", "text": "word " * 700}) + "\n" for i in range(40)))
    code, _, err = run(capsys, "--location", ":memory:", "ingest", str(long))
    assert code == 0 and err.count("note:") == 1 and "40 texts were longer" in err
    assert "site-packages" not in err and "hybridstore/" not in err and "Warning" not in err


def cli(*argv: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hybridstore.cli", *argv], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs,
                            # a test run started in the background inherits SIGINT ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509 (no threads yet)


def test_ctrl_c_ends_with_one_line_and_a_rerun_continues(tmp_path):
    store = ["--path", str(tmp_path / "index")]
    proc = cli(*store, "ingest", str(SCIFACT), "--limit", "120")
    created = [tmp_path / "index" / "hybridstore" / "edge_config.json",  # either engine's
               tmp_path / "index" / "collection" / "hybridstore"]
    deadline = time.monotonic() + 120
    while not any(p.exists() for p in created) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # interrupt on progress, not on the clock: the first batch is under way
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("ingest: ")]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("interrupted")
    done = cli(*store, "ingest", str(SCIFACT), "--limit", "120")
    out, err = done.communicate(timeout=600)
    assert done.returncode == 0, err
    assert "now holds 120" in out


def test_help_is_fast_and_shows_defaults():
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "hybridstore.cli", "--help"], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    took = time.perf_counter() - start
    assert "(default: hybridstore-data)" in out and "default: edge" in out
    imported = subprocess.run([sys.executable, "-c", ("import sys, hybridstore.cli; "
                               "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                               "('qdrant_client', 'fastembed', 'numpy', 'onnxruntime')))")],
                              capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert imported.strip() == "[]", imported  # what makes --help slow is never imported for it
    ingest = subprocess.run([sys.executable, "-m", "hybridstore.cli", "ingest", "--help"],
                            capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert "(default: 1200)" in ingest and "(default: utf-8)" in ingest
    print(f"--help took {took:.2f}s")


def test_an_unreachable_model_fails_fast_naming_the_flag_and_the_pack(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE",)}
    start = time.perf_counter()
    proc = cli("--location", ":memory:", "--late", "answerdotai/answerai-colbert-small-v1",
               "search", "x", env=env)
    _, err = proc.communicate(timeout=60)
    took = time.perf_counter() - start
    assert proc.returncode == 2 and "--pack DIR" in err and "HYBRIDSTORE_MODELS" in err
    assert "colbert-ir/colbertv2.0 (late_interaction)" in err and "Traceback" not in err
    assert took < 10  # not fastembed's retries (about 40 s); the check itself is under 2 s
