"""Commands that read an index: a mistyped --path, progress in a log, queries of stop-words,
warnings that are noise."""

import json

import pytest

from .test_cli import holds, run


@pytest.mark.parametrize("command", [["search", "x"], ["info"], ["delete", "--id", "x"], ["reembed"],
                                     ["copy", "--to-path", "{tmp}/elsewhere"]])
def test_a_mistyped_path_is_refused_and_not_created(tmp_path, capsys, command):
    typo = tmp_path / "indx"
    code, out, err = run(capsys, "--path", str(typo), *(a.format(tmp=tmp_path) for a in command))
    assert code == 2 and f"no index at --path {typo} (no such folder)" in err and out == ""
    assert not typo.exists() and not (tmp_path / "elsewhere").exists()


def test_info_on_a_collection_that_is_not_there_exits_2(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "a", "text": "Volcanoes erupt ash."}) + "\n")
    store = ["--path", str(tmp_path / "index")]
    assert run(capsys, *store, "ingest", str(rows))[0] == 0
    code, out, err = run(capsys, *store, "--collection", "other", "info")
    assert code == 2 and json.loads(out)["exists"] is False and "collection 'other' does not exist" in err
    assert run(capsys, *store, "info")[0] == 0


def test_progress_shows_in_a_log_at_each_tenth(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": f"r{i}", "text": f"Row {i} about rivers."}) + "\n"
                            for i in range(100)))
    code, out, err = run(capsys, "--location", ":memory:", "--batch-size", "8", "ingest", str(rows))
    steps = [line for line in err.splitlines() if line.startswith("ingest: ")]
    assert code == 0 and holds(out) == 100 and 8 <= len(steps) <= 10, err
    assert steps[-1].startswith("ingest: 100/100 rec (100%)")


def test_a_query_of_stop_words_says_its_keyword_search_is_empty(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "a", "text": "The volcano and the ash."}) + "\n")
    store = ["--path", str(tmp_path / "index")]
    assert run(capsys, *store, "ingest", str(rows))[0] == 0
    code, out, err = run(capsys, *store, "search", "the of and", "--mode", "sparse")
    assert code == 0 and out == "" and "no term (only stop-words or punctuation)" in err
    assert "keyword search finds nothing" in err and "--mode dense" in err
    code, out, err = run(capsys, *store, "search", "the of and")
    assert code == 0 and " 1. " in out and "the other vectors rank alone" in err
    code, out, err = run(capsys, *store, "search", "volcano")
    assert code == 0 and " 1. " in out and err == ""  # nothing else is said per search, either engine
