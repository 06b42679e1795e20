"""`ingest --pages MODEL`: each PDF page rendered and stored as a page multivector on its first
chunk (a page without text: its image alone), found by the pages search; ids, re-runs, --sync
and delete as for text. The model is the constructed ColPali-shaped one of tests/images."""

import json
from pathlib import Path
from typing import Any

import pytest

from ..images.tiny_colpali import NAME, build
from ..pdfs import pdf
from .test_cli import holds, run
from .test_cli_documents import BOOK


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return ["--pages", NAME, "--pages-path", str(build(tmp_path_factory.mktemp("colpali")))]


def hits(capsys: pytest.CaptureFixture[str], args: list[str], query: str, *more: str) -> list[Any]:
    code, out, err = run(capsys, *args, "search", query, "-k", "4", "--json", *more)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_pages_are_stored_with_their_first_chunk_and_an_image_page_is_found(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], pages: list[str]) -> None:
    f = tmp_path / "book.pdf"
    f.write_bytes(pdf(BOOK + [["Owls hunt at night.", "", *["Owls see in the dark."] * 40]], title="Nature Notes"))
    store = ["--path", str(tmp_path / "index"), *pages]
    code, out, err = run(capsys, *store, "ingest", str(f), "--chunk-size", "200", "--pages-dpi", "72")
    assert code == 0, err
    assert "1 PDF(s) have pages without text, indexed as page images alone" in err and "page 3" in err
    book = str(f.resolve())
    # page 3 is an image alone (a dark picture): only the pages search can find it
    top = hits(capsys, store, "black", "--mode", "pages")[0]
    assert top["id"] == f"{book}#p3.0" and top["text"] == "" and top["metadata"]["page"] == 3
    assert top["image"] == f"{book}#page=3&dpi=72"  # where the page is, rendered again when read
    code, out, _ = run(capsys, *store, "info")
    vectors = {v["name"]: v["points"] for v in json.loads(out)["vectors"]}
    chunks = holds(run(capsys, *store, "ingest", str(f), "--chunk-size", "200", "--pages-dpi", "72")[1])
    assert vectors["pages"] == vectors["pages_pooled"] == 5 and vectors["dense"] == chunks - 1 > 5
    assert hits(capsys, store, "magma rises through the vent")[0]["id"] == f"{book}#p2.0"  # text + pages fused
    code, out, _ = run(capsys, *store, "ingest", str(f), "--chunk-size", "200", "--pages-dpi", "72")
    assert code == 0 and f"{chunks} unchanged" in out  # the same renders: nothing embedded again
    code, _, err = run(capsys, "--path", str(tmp_path / "index"), "ingest", str(f), "--chunk-size", "200")
    assert code == 2 and "give the same --pages options again" in err  # nothing written without them
    code, out, _ = run(capsys, *store, "delete", "--file", str(f))
    assert code == 0 and f"deleted {chunks} records" in out


def test_pages_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str], pages: list[str]) -> None:
    f = tmp_path / "one.pdf"
    f.write_bytes(pdf([["One page about rivers."]]))
    code, _, err = run(capsys, "--location", ":memory:", "--pages-path", pages[3], "ingest", str(f))
    assert code == 2 and "--pages-path needs --pages MODEL" in err
    code, _, err = run(capsys, "--location", ":memory:", *pages, "ingest", str(f), "--pages-dpi", "0")
    assert code == 2 and "--pages-dpi" in err


def test_an_index_written_with_page_bytes_keeps_its_page_vectors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], pages: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, ingest held every page's PNG in memory and stored its digest; a page is now named
    by its file and rendered when read. The renders are the same bytes: nothing is embedded
    again, only the stored source changes."""
    from hybridstore.cli import sources
    from hybridstore.documents import render_pdf

    f = tmp_path / "book.pdf"
    f.write_bytes(pdf(BOOK, title="Nature Notes"))
    store = ["--path", str(tmp_path / "index"), *pages]
    with monkeypatch.context() as m:  # what ingest did before
        m.setattr(sources, "page_images", lambda path, dpi, pages: render_pdf(path, dpi))
        code, out, err = run(capsys, *store, "ingest", str(f), "--pages-dpi", "72")
        assert code == 0, err
    chunks = holds(out)
    assert hits(capsys, store, "black", "--mode", "pages")[0]["image"].startswith("sha256:")
    code, out, err = run(capsys, *store, "ingest", str(f), "--pages-dpi", "72")
    assert code == 0 and f"0 embedded, {chunks - 4} unchanged, 4 with new metadata only" in out, out + err
    top = hits(capsys, store, "black", "--mode", "pages")[0]
    assert top["image"] == f"{f.resolve()}#page=3&dpi=72"
    code, out, _ = run(capsys, *store, "ingest", str(f), "--pages-dpi", "100")
    assert code == 0 and "4 embedded" in out  # another resolution: other renders, embedded again
