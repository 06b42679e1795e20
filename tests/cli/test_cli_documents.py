"""`ingest` reads PDFs (text per page) and HTML (visible text): pages found by search with their
`source` and `page`, bad PDFs reported and skipped, re-runs, --sync and delete as for text."""

import json
from pathlib import Path
from typing import Any

import pytest

from ..pdfs import broken, pdf
from .test_cli import holds, run

BOOK = [["Rivers carry water from the mountains to the sea.", "Deltas form where they slow."],
        ["Magma rises through the vent of a volcano.", "Eruptions throw ash into the sky."],
        None,
        ["Cats sleep most of the day and hunt at night."]]


def hits(capsys: pytest.CaptureFixture[str], store: list[str], query: str, k: int = 3) -> list[Any]:
    code, out, _ = run(capsys, *store, "search", query, "-k", str(k), "--json")
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def test_a_phrase_from_page_2_finds_page_2_and_bad_pdfs_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "book.pdf").write_bytes(pdf(BOOK, title="Nature Notes"))
    (d / "locked.pdf").write_bytes(pdf([["secret"]], encrypted=True))
    (d / "cut.pdf").write_bytes(broken())
    (d / "scan.pdf").write_bytes(pdf([None]))
    (d / "page.html").write_text("<html><head><title>Tea</title><script>var tea = 'coffee';</script>"
                                 "</head><body><p>Green tea is steamed &amp; dried.</p></body></html>")
    (d / "table.csv").write_text("a,b\n1,2\n")
    store = ["--path", str(tmp_path / "index")]
    code, out, err = run(capsys, *store, "ingest", str(d))
    assert code == 1 and "indexed 4 records from 2 files" in out and holds(out) == 4
    lines = {x.split(": ", 1)[0].rsplit("/", 1)[-1]: x for x in err.splitlines() if ".pdf: " in x}
    assert "encrypted: it needs a password; skipped" in lines["locked.pdf"]
    assert "not a PDF, or damaged; skipped" in lines["cut.pdf"]
    assert "no text on any of its 1 page(s): scanned or image-only" in lines["scan.pdf"]
    assert "3 input(s) skipped" in err
    assert "1 file(s) in the folders were left alone (not .txt, .md, .rst, .jsonl, .pdf or .html" in err
    assert "1 PDF(s) have pages without text, left out (blank, or scanned: OCR them" in err
    assert f"{d / 'book.pdf'}: page 3" in err  # said, though not a problem (blank pages are common)

    book = str((d / "book.pdf").resolve())
    top = hits(capsys, store, "magma rises through the vent of a volcano")[0]
    assert top["id"] == f"{book}#p2.0" and top["text"].startswith("Magma rises through the vent")
    assert top["metadata"] == {"source": book, "page": 2, "chunk": 0, "title": "Nature Notes"}
    top = hits(capsys, store, "green tea steamed")[0]
    assert top["metadata"] == {"source": str((d / "page.html").resolve()), "title": "Tea", "chunk": 0}
    assert top["text"] == "Green tea is steamed & dried."
    code, out, _ = run(capsys, *store, "search", "cats", "-k", "3", "--filter", '{"page": 4}')
    assert code == 0 and f"{book}#p4.0" in out and "#p2.0" not in out

    code, out, err = run(capsys, *store, "ingest", str(d / "book.pdf"))  # the same ids again
    assert code == 0 and "3 unchanged" in out and holds(out) == 4 and "book.pdf: page 3" in err


def test_a_pdf_that_changes_loses_stale_pages_and_sync_and_delete_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "docs"
    d.mkdir()
    f = d / "book.pdf"
    f.write_bytes(pdf(BOOK))
    (d / "page.htm").write_text("<p>Green tea is steamed.</p>")
    store = ["--path", str(tmp_path / "index")]
    assert holds(run(capsys, *store, "ingest", str(d))[1]) == 4
    f.write_bytes(pdf(BOOK[:2]))  # page 4 is gone
    code, out, _ = run(capsys, *store, "ingest", str(d))
    assert code == 0 and "1 stale removed" in out and holds(out) == 3
    f.write_bytes(pdf([["x"]], encrypted=True))  # its text is unknown now: its records go
    code, out, err = run(capsys, *store, "ingest", str(d))
    assert code == 1 and holds(out) == 1 and "encrypted" in err and "is removed" in err
    f.write_bytes(pdf(BOOK))
    assert holds(run(capsys, *store, "ingest", str(d))[1]) == 4
    (d / "page.htm").unlink()
    code, out, _ = run(capsys, *store, "ingest", str(d), "--sync")
    assert code == 0 and holds(out) == 3
    code, out, _ = run(capsys, *store, "delete", "--file", str(f))
    assert code == 0 and "deleted 3 records" in out


def test_a_pdf_or_html_named_explicitly_reads_and_another_type_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "one.pdf"
    f.write_bytes(pdf([["One page about rivers."]]))
    other = tmp_path / "table.csv"
    other.write_text("a,b\n")
    code, out, err = run(capsys, "--location", ":memory:", "ingest", str(f), str(other))
    assert code == 1 and holds(out) == 1
    assert f"{other}: not a .txt, .md, .rst, .jsonl, .pdf or .html file; skipped" in err
