"""hybridstore.documents: PDF pages and HTML visible text, read from files the tests write."""

from pathlib import Path

import pytest

from hybridstore.documents import DocumentError, html_records, pdf_records, read_html, read_pdf

from .pdfs import broken, pdf

PAGES = [["Chapter one is about rivers.", "They run to the sea."], None,
         ["Chapter three: volcanoes (and ash)."]]


def test_a_pdf_reads_as_its_pages_with_its_title(tmp_path: Path) -> None:
    f = tmp_path / "book.pdf"
    f.write_bytes(pdf(PAGES, title="A Book"))
    text = read_pdf(f)
    assert text.title == "A Book"
    assert [(p.number, p.text) for p in text.pages] == [
        (1, "Chapter one is about rivers.\nThey run to the sea."), (2, ""),
        (3, "Chapter three: volcanoes (and ash).")]
    assert read_pdf(f.read_bytes()) == text


def test_pdf_records_name_their_page_and_keep_their_ids(tmp_path: Path) -> None:
    f = tmp_path / "book.pdf"
    f.write_bytes(pdf(PAGES + [["word " * 100]], title="A Book"))
    link = tmp_path / "link.pdf"
    link.symlink_to(f)
    records = pdf_records(link, chunk_size=200, overlap=20)
    doc = str(f.resolve())
    assert [r.id for r in records] == [f"{doc}#p1.0", f"{doc}#p3.0", f"{doc}#p4.0", f"{doc}#p4.1",
                                       f"{doc}#p4.2"]
    assert records[1].metadata == {"source": doc, "page": 3, "chunk": 0, "title": "A Book"}
    assert records[1].text == "Chapter three: volcanoes (and ash)." and records[1].doc_id == doc
    assert records[3].metadata["page"] == 4 and records[3].metadata["chunk"] == 1
    assert [r.id for r in pdf_records(f, chunk_size=200, overlap=20)] == [r.id for r in records]


def test_a_word_hyphenated_at_a_line_end_is_whole_again(tmp_path: Path) -> None:
    page = read_pdf(pdf([["The declara-", "tions of the module."]])).pages[0]
    assert page.text == "The declarations of the module."  # PDFium marked the joint with U+FFFE


def test_a_pdf_without_a_title_has_no_title_key(tmp_path: Path) -> None:
    f = tmp_path / "plain.pdf"
    f.write_bytes(pdf([["Only text."]]))
    assert read_pdf(f).title is None
    assert pdf_records(f)[0].metadata == {"source": str(f.resolve()), "page": 1, "chunk": 0}


@pytest.mark.parametrize("data, reason", [
    (pdf([["secret"]], encrypted=True), "encrypted: it needs a password"),
    (broken(), "not a PDF, or damaged"),
    (b"plain text, not a PDF", "not a PDF, or damaged"),
    (pdf([None, None]), "no text on any of its 2 page(s): scanned or image-only pages need OCR"),
])
def test_pdfs_that_give_no_text_are_refused_with_the_reason(tmp_path: Path, data: bytes, reason: str) -> None:
    f = tmp_path / "bad.pdf"
    f.write_bytes(data)
    with pytest.raises(DocumentError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        pdf_records(f)
    assert isinstance(DocumentError("x"), ValueError)  # an InvalidInputError


def test_html_keeps_visible_text_and_title_drops_scripts_styles_comments() -> None:
    html = read_html(
        "<!DOCTYPE html><html><head><title> Rivers &amp; Seas </title><meta charset='utf-8'>"
        "<style>p { color: red }</style><script>var hidden = 1;</script></head>"
        "<body><h1>Rivers</h1><!-- a note --><p>Rivers&nbsp;run to the sea &lt;always&gt;.\n"
        "  Caf&eacute; &#233;</p><script type='module'>alert('x')</script>"
        "<ul><li>one</li><li>two</li></ul>line<br>break<pre>a\n  b</pre>"
        "<svg><title>Icon tooltip</title><path d='M0 0'/></svg></body></html>")
    assert html.title == "Rivers & Seas"
    assert html.text == ("Rivers\n\nRivers run to the sea <always>. Café é\n\none\n\ntwo\n\n"
                         "line\nbreak\n\na\nb")  # <pre> keeps its lines


def test_html_without_closing_head_or_title_keeps_its_body() -> None:
    html = read_html("<html><head><meta charset=utf-8><body><p>Body text.</p>")
    assert html == type(html)(None, "Body text.")


def test_html_records_are_chunked_like_text_with_the_title(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text("<title>Page</title><p>First paragraph.</p><p>Second one.</p>", encoding="utf-8")
    records = html_records(f)
    doc = str(f.resolve())
    assert [(r.id, r.text, r.metadata) for r in records] == [
        (f"{doc}#0", "First paragraph.\n\nSecond one.", {"source": doc, "title": "Page", "chunk": 0})]


def test_rendered_pages_go_on_each_pages_first_chunk(tmp_path: Path) -> None:
    """With page images (a page model): each page's first chunk carries its PNG, a page without
    text becomes its image alone, and the renders (so the ids and hashes) are the same each time."""
    import io

    from PIL import Image

    from hybridstore.documents import page_records, render_pdf

    data = pdf(PAGES + [["word " * 100]], title="A Book")
    images = render_pdf(data, dpi=36)
    assert len(images) == 4 and images == render_pdf(data, dpi=36)
    assert Image.open(io.BytesIO(images[0])).size == (306, 396)  # letter at 36 dpi
    records = page_records("/d/book.pdf", read_pdf(data), 200, 20, images)
    pictured = {r.id: r.image for r in records if r.image is not None}
    assert pictured == {f"/d/book.pdf#p{n}.0": images[n - 1] for n in (1, 2, 3, 4)}
    blank = next(r for r in records if r.id == "/d/book.pdf#p2.0")
    assert blank.text == "" and blank.metadata == {"source": "/d/book.pdf", "page": 2, "title": "A Book", "chunk": 0}
    assert len([r for r in records if r.metadata["page"] == 4]) > 1  # only its first chunk has the image
    scan = pdf([None])  # no text at all: with its image it is a page, not an error
    assert [(r.id, r.text) for r in page_records("/d/scan.pdf", read_pdf(scan), images=render_pdf(scan, 36))] == \
        [("/d/scan.pdf#p1.0", "")]
    with pytest.raises(DocumentError, match="not a readable PDF"):
        render_pdf(broken())


def test_pdf_pages_render_when_read_and_are_refused_naming_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`page_images` renders nothing: each `PdfPage` renders when read, to the bytes `render_pdf`
    gives, and is stored as its path, page and dpi, which read back as the same page."""
    import hashlib

    from hybridstore import image_sources
    from hybridstore.documents import PdfPage, page_images, render_page, render_pdf
    from hybridstore.errors import InvalidInputError

    f = tmp_path / "book #1.pdf"  # a '#' in the name: the source splits at its last '#page='
    f.write_bytes(pdf(PAGES, title="A Book"))
    renders = render_pdf(f, dpi=36)
    pages = page_images(f, dpi=36)
    assert [(p.path, p.page, p.dpi, p.png) for p in pages] == [(str(f.resolve()), n, 36, None) for n in (1, 2, 3)]
    assert page_images(f, dpi=36, pages=3) == pages
    assert [render_page(p.path, p.page, p.dpi) for p in pages] == [p.rendered().png for p in pages] == renders
    stored = image_sources.source(pages[1].rendered())
    assert stored == f"{f.resolve()}#page=2&dpi=36" and PdfPage.parse(stored) == pages[1]
    assert image_sources.digest(stored) == image_sources.digest(pages[1]) == hashlib.sha256(renders[1]).hexdigest()
    assert image_sources.openable(stored).read() == renders[1] and image_sources.rereadable(stored)
    image_sources.check_image("record 'b'", stored)
    with pytest.raises(InvalidInputError, match=r"has 3 page\(s\), not a page 4 \(pages count from 1\)"):
        image_sources.check_image("record 'b'", PdfPage(str(f), 4))
    with pytest.raises(InvalidInputError, match="does not exist"):
        image_sources.check_image("record 'b'", PdfPage(str(tmp_path / "gone.pdf"), 1))
    with pytest.raises(DocumentError, match="not a page 0"):
        render_page(str(f), 0)
    with pytest.raises(InvalidInputError, match="is a URL"):
        image_sources.check_image("record 'b'", f"file://{f}#page=1&dpi=36")
    monkeypatch.chdir(tmp_path)
    assert PdfPage(f.name, 2, 36) == pages[1]  # a relative path kept absolute: read again from anywhere
    kept = pages[1].rendered()
    f.unlink()
    assert not image_sources.rereadable(stored) and image_sources.digest(stored) == f"missing:{stored}"
    assert image_sources.digest(kept) == hashlib.sha256(renders[1]).hexdigest()  # its render, kept for its batch
