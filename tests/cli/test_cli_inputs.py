"""`ingest` on inputs that used to end in silent wrong answers: encodings, JSONL rows the engine
cannot store, U+2028 inside rows, long problem lists, symlinked files."""

import codecs
import json

from .test_cli import holds, run


def stored_texts(capsys, store, query="coffee", k=10) -> dict[str, str]:
    code, out, _ = run(capsys, *store, "search", query, "-k", str(k), "--json")
    assert code == 0
    return {json.loads(line)["id"].rsplit("/", 1)[1]: json.loads(line)["text"] for line in out.splitlines()}


def test_byte_order_marks_decide_and_an_explicit_encoding_spares_utf8_files(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    text = "Café au lait is coffee with hot milk."
    (d / "u16.txt").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    (d / "u16be.txt").write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    (d / "u32.txt").write_bytes(codecs.BOM_UTF32_LE + text.encode("utf-32-le"))
    (d / "bom8.md").write_bytes(codecs.BOM_UTF8 + text.encode())
    (d / "u8.txt").write_text("Déjà vu: coffee again.", encoding="utf-8")
    (d / "lat.txt").write_bytes(text.encode("latin-1"))
    (d / "crlf.txt").write_bytes(b"First line about coffee.\r\nSecond line.\r\n")
    store = ["--path", str(tmp_path / "index")]
    code, out, err = run(capsys, *store, "ingest", str(d))
    assert code == 1 and holds(out) == 6 and "1 input(s) skipped" in err
    line = next(x for x in err.splitlines() if "lat.txt" in x)
    assert "byte 0xe9 at offset 3" in line and "--encoding cp1252 or --encoding latin-1" in line
    texts = stored_texts(capsys, store)
    assert all(texts[f"{n}#0"] == text for n in ("u16.txt", "u16be.txt", "u32.txt", "bom8.md"))

    code, out, err = run(capsys, *store, "ingest", str(d), "--encoding", "latin-1")
    assert code == 0 and holds(out) == 7 and "0 embedded" not in out
    texts = stored_texts(capsys, store)
    assert texts["lat.txt#0"] == text and texts["u8.txt#0"] == "Déjà vu: coffee again."  # not mojibake
    assert texts["u16.txt#0"] == text and texts["crlf.txt#0"].startswith("First line about coffee.")


def test_hints_name_only_encodings_that_read_the_file(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    (d / "wide.txt").write_bytes("Plain words in UTF-16 without a mark.".encode("utf-16-le"))
    (d / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (d / "nul.txt").write_bytes(b"\x00" * 64)
    code, _, err = run(capsys, "--location", ":memory:", "ingest", str(d), "--encoding", "latin-1")
    assert code == 1 and "Traceback" not in err
    lines = {x.split(":", 1)[0].rsplit("/", 1)[1]: x for x in err.splitlines() if ".txt:" in x}
    assert "--encoding utf-16-le" in lines["wide.txt"] and "latin-1 or" not in lines["wide.txt"]
    assert "text in any common encoding" in lines["binary.txt"] and "--encoding" not in lines["binary.txt"]
    assert "as latin-1 it reads as control characters" in lines["binary.txt"]
    assert "NUL byte at offset 0" in lines["nul.txt"] and "text in any common" in lines["nul.txt"]
    code, _, err = run(capsys, "--location", ":memory:", "ingest", str(d), "--encoding", "nope")
    assert code == 2 and "--encoding nope: no such encoding" in err


def test_a_file_that_no_longer_decodes_leaves_no_stale_chunks(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("Espresso is strong coffee.", encoding="utf-8")
    (tmp_path / "other.txt").write_text("Tea is brewed from leaves.")
    store = ["--path", str(tmp_path / "index")]
    code, out, _ = run(capsys, *store, "ingest", str(f), str(tmp_path / "other.txt"))
    assert code == 0 and holds(out) == 2
    f.write_bytes("Espresso is strong café.".encode("latin-1"))  # re-saved in another encoding
    code, out, err = run(capsys, *store, "ingest", str(f), str(tmp_path / "other.txt"))
    assert code == 1 and holds(out) == 1 and "1 stale removed" in out
    assert "anything an earlier run stored from it is removed" in err
    assert list(stored_texts(capsys, store, "espresso coffee")) == ["other.txt#0"]


def rows(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


def test_rows_the_engine_cannot_store_are_skipped_with_file_and_line(tmp_path, capsys):
    f = tmp_path / "rows.jsonl"
    f.write_text(rows('{"id": "a", "text": "Rice is a grain."}',
                      '{"id": "b", "text": "lone \\ud800 surrogate"}',
                      '{"id": "c", "text": "not a number", "metadata": {"x": NaN}}',
                      '{"id": "d", "text": "huge", "metadata": {"n": 123456789012345678901234567890}}',
                      '{"id": "e", "text": "Beans are seeds."}'))
    store = ["--path", str(tmp_path / "index")]
    code, out, err = run(capsys, *store, "ingest", str(f), "--strict")
    assert code == 2 and "--strict: nothing was written" in err and out == ""
    assert "rows.jsonl:2" in err and not (tmp_path / "index" / "hybridstore").exists()
    code, out, err = run(capsys, *store, "ingest", str(f))
    assert code == 1 and holds(out) == 2 and "Traceback" not in err and "3 input(s) skipped" in err
    assert "rows.jsonl:2: record 'b': text is not valid Unicode" in err
    assert "rows.jsonl:3: record 'c': metadata['x'] is nan" in err
    assert "rows.jsonl:4: record 'd': metadata['n'] = 123456789012345678901234567890 does not fit" in err


def test_jsonl_rows_split_on_newlines_only(tmp_path, capsys):
    f = tmp_path / "rows.jsonl"
    f.write_text(rows(json.dumps({"id": "a", "text": "one\u2028two\x85three"}, ensure_ascii=False),
                      '{"id": "b", "text": "fine"',
                      json.dumps({"id": "c", "text": "volcano"})), encoding="utf-8")
    code, out, err = run(capsys, "--location", ":memory:", "ingest", str(f))
    assert code == 1 and holds(out) == 2 and "1 input(s) skipped" in err
    assert "rows.jsonl:2: not JSON" in err


def test_every_problem_can_be_listed_and_a_symlinked_file_is_read_once(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    (d / "bad.jsonl").write_text(rows(*("[1]" for _ in range(25))))
    (d / "long.md").write_text("A paragraph about rivers and mountains. " * 80)
    (d / "same.md").symlink_to(d / "long.md")
    report = tmp_path / "problems.txt"
    code, _, err = run(capsys, "--location", ":memory:", "ingest", str(d), "--chunk-size", "300")
    assert code == 1 and "25 input(s) skipped" in err and "... and 5 more (--report FILE lists them all)" in err
    assert "already read" not in err
    code, _, err = run(capsys, "--location", ":memory:", "ingest", str(d), "--report", str(report))
    listed = report.read_text().splitlines()
    assert len(listed) == 25 and listed[24].endswith("bad.jsonl:25: a JSON list, not an object; skipped")
    assert f"all are listed in {report}" in err
