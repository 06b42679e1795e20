"""What the command line says: command-line fixes (not Python ones), notes that fit the command,
a bad --filter, a closed pipe, a missing model pack."""

import json
import re

import pytest

from hybridstore import HybridIndex, Models

from ..conftest import LATE
from .test_cli import cli, run

PYTHON_FORMS = re.compile(r"\w\(\)|\w='|\w=\.\.\.|Models\(")


def test_errors_name_command_line_fixes(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": f"r{i}", "text": f"Volcano number {i} erupts ash."}) + "\n"
                            for i in range(3)))
    store = ["--path", str(tmp_path / "index")]
    assert run(capsys, *store, "ingest", str(rows))[0] == 0
    code, _, err = run(capsys, *store, "--late", LATE, "search", "volcano")
    assert code == 2 and "hybridstore reembed" in err and "--late MODEL" in err and "--collection" in err
    assert not PYTHON_FORMS.search(err.replace("in Python: drop()", "")), err

    with HybridIndex("hybridstore", Models(late_interaction=LATE), path=str(tmp_path / "index")) as index:
        def stop(name, n):  # Ctrl-C after the first point: the late vector is part-filled
            raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            index.reembed(batch_size=1, progress=stop)
    code, _, err = run(capsys, *store, "--late", LATE, "search", "volcano", "--rerank")
    assert code == 2 and "2 point(s)" in err and "hybridstore reembed" in err and "--no-rerank" in err
    assert not PYTHON_FORMS.search(err), err


def test_a_bad_filter_says_it_is_not_json_and_where(capsys):
    with pytest.raises(SystemExit) as stop:
        run(capsys, "--location", ":memory:", "search", "x", "--filter", '{"year": 2020')
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "--filter: not valid JSON (Expecting ',' delimiter at column 14)" in err


def test_a_missing_pack_names_the_path_given(tmp_path, capsys):
    code, _, err = run(capsys, "--pack", "no-such-pack", "--location", ":memory:", "search", "x")
    assert code == 2 and "model pack no-such-pack (that is " in err and "no such folder" in err
    assert "given as --pack" in err and "pack=" not in err


def test_the_truncation_note_fits_the_command(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "a", "text": "Volcanoes erupt ash."}) + "\n")
    store = ["--path", str(tmp_path / "index")]
    assert run(capsys, *store, "ingest", str(rows))[0] == 0
    code, _, err = run(capsys, *store, "search", "volcano " * 700)
    assert code == 0 and "1 texts were longer than the" in err and "Shorten the query." in err
    assert "--chunk-size" not in err


def test_output_closed_early_ends_quietly(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": f"r{i}", "text": "lava " * 8000}) + "\n" for i in range(8)))
    proc = cli("--path", str(tmp_path / "index"), "ingest", str(rows))
    assert proc.communicate(timeout=300)[0].startswith("indexed")
    proc = cli("--path", str(tmp_path / "index"), "search", "lava", "-k", "8", "--json")
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does after one line
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 141 and err == "", err
