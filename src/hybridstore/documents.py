"""PDF and HTML files as text: a PDF's pages (PDFium's text layer, through pypdfium2) and its
title; an HTML file's visible text and its <title> (the standard library's parser).

`pdf_records` and `html_records` cut them into records as `hybridstore ingest` cuts text files:
a page's text is chunked on its own, so every record names its page. Ids follow the CLI's text
files: the document id is the file's absolute path with symlinks resolved, a chunk's id
``<document id>#<n>`` (HTML) or ``<document id>#p<page>.<n>`` (PDF, the page 1-based).
Metadata: ``source`` (the document id), ``page`` (PDF: the physical page, 1-based, not its
printed label), ``chunk``, and ``title`` where the file has one.

`page_images` names each page as a `PdfPage` (rendered to a PNG by pypdfium2 when its batch is
embedded, then dropped) for a page model (kind "late_interaction_multimodal"); `render_pdf` renders
every page to PNG bytes at once. With `images` (either), `page_records` gives each page's first
chunk its page image, so one point holds the page's text vectors and its page vectors. Only the first: the
page is one candidate of the pages search, not one per chunk, and its ~1000 patch vectors are
stored once. A page without text becomes a record of its image alone (id ``...#p<page>.0``,
empty text): the pages search finds it, the text searches cannot. PDFium is not thread-safe:
every call here holds one lock.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]  # the package ships no type information

from .chunking import chunk_text
from .errors import DocumentError
from .image_sources import ImageInput, PdfPage
from .records import Record
from .rendering import DPI, PDFIUM, opened, page_count, png, render_page

__all__ = ["DPI", "DocumentError", "PdfPage", "html_records", "page_count", "page_images", "page_records",
           "pdf_records", "read_html", "read_pdf", "render_page", "render_pdf"]


# PDFium's load errors (fpdfview.h FPDF_ERR_*) and what each means to a user.
_LOAD_ERRORS = {
    2: "cannot be opened",
    3: "not a PDF, or damaged",
    4: "encrypted: it needs a password",
    5: "encrypted with a security scheme PDFium does not support",
}


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, the physical page
    text: str


@dataclass(frozen=True)
class PdfText:
    title: str | None
    pages: list[Page]

    def textless(self) -> list[int]:
        """Pages without text: blank, or scanned (an image, which needs OCR to be searched)."""
        return [p.number for p in self.pages if not p.text.strip()]


@dataclass(frozen=True)
class HtmlText:
    title: str | None
    text: str


def read_pdf(source: str | os.PathLike[str] | bytes, password: str | None = None) -> PdfText:
    """Every page's text (empty for a page without a text layer: blank, or a scanned image) and
    the document's title. Raises DocumentError naming why a PDF cannot be read."""
    with PDFIUM:
        return _read_pdf(source, password)


def _read_pdf(source: str | os.PathLike[str] | bytes, password: str | None) -> PdfText:
    try:
        pdf = pypdfium2.PdfDocument(source if isinstance(source, bytes) else os.fspath(source),
                                    password=password)
    except pypdfium2.PdfiumError as e:
        code = getattr(e, "err_code", None)
        reason = _LOAD_ERRORS.get(code) if isinstance(code, int) else None
        raise DocumentError(reason or f"not a readable PDF ({e})") from e
    try:
        title = _clean(str(pdf.get_metadata_value("Title") or "")) or None
        return PdfText(title, [Page(n, _page_text(pdf, n)) for n in range(1, len(pdf) + 1)])
    finally:
        pdf.close()


def _page_text(pdf: pypdfium2.PdfDocument, number: int) -> str:
    try:
        page = pdf[number - 1]
        textpage = page.get_textpage()
    except pypdfium2.PdfiumError as e:
        raise DocumentError(f"page {number} cannot be read ({e})") from e
    try:
        text = str(textpage.get_text_range())
    finally:
        textpage.close()
        page.close()
    # PDFium ends lines with \r\n and joins a word hyphenated at a line end, marking the joint
    # with U+FFFE (\x02 in older builds): the word whole is what a search looks for
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return re.sub(r"[\ufffe\x02]\n?", "", text)


def pdf_records(path: str | os.PathLike[str], chunk_size: int = 1200, overlap: int = 150,
                password: str | None = None, data: bytes | None = None) -> list[Record]:
    """Records of a PDF's pages, chunked per page. `data`: the file's bytes, if already read.
    Raises DocumentError when the PDF cannot be read or no page has text (scanned: it needs OCR)."""
    doc = os.path.realpath(path)
    return page_records(doc, read_pdf(data if data is not None else doc, password), chunk_size, overlap)


def page_records(doc: str, pdf: PdfText, chunk_size: int = 1200, overlap: int = 150,
                 images: Sequence[ImageInput] | None = None) -> list[Record]:
    """Records of a PDF read already (`read_pdf`), document id `doc`; see `pdf_records`.
    `images` (`page_images`, or `render_pdf`'s bytes): each page's image, on its first chunk
    (a page without text: a record of the image alone)."""
    records = []
    for page in pdf.pages:
        chunks = chunk_records(doc, page.text, chunk_size, overlap, pdf.title, page.number)
        if images is not None:
            first = chunks[0] if chunks else _record(doc, "", 0, pdf.title, page.number)
            chunks[:1] = [replace(first, image=images[page.number - 1])]
        records += chunks
    if not records:
        raise DocumentError(f"no text on any of its {len(pdf.pages)} page(s): scanned or "
                            "image-only pages need OCR first" if pdf.pages else "no pages")
    return records


def render_pdf(source: str | os.PathLike[str] | bytes, dpi: int = DPI, password: str | None = None) -> list[bytes]:
    """Each page rendered at `dpi` as PNG bytes (the same bytes every run: ids and hashes stay),
    all held at once: `page_images` names pages that render when read instead."""
    with PDFIUM, opened(source, password) as pdf:
        return [png(pdf, n, dpi) for n in range(len(pdf))]


def page_images(path: str | os.PathLike[str], dpi: int = DPI, pages: int | None = None) -> list[PdfPage]:
    """Each page of the PDF at `path` as a `PdfPage` (a record's image), rendered in the batch
    of `add` that holds it; `pages`: its page count, if known already (`read_pdf`)."""
    doc = os.path.realpath(path)
    return [PdfPage(doc, n, dpi) for n in range(1, (page_count(doc) if pages is None else pages) + 1)]


def html_records(path: str | os.PathLike[str], chunk_size: int = 1200, overlap: int = 150,
                 encoding: str = "utf-8") -> list[Record]:
    """Records of an HTML file's visible text, chunked as a text file."""
    doc = os.path.realpath(path)
    html = read_html(Path(doc).read_text(encoding=encoding))
    return chunk_records(doc, html.text, chunk_size, overlap, html.title)


def chunk_records(doc: str, text: str, chunk_size: int, overlap: int, title: str | None = None,
                  page: int | None = None) -> list[Record]:
    """`text` of document `doc` (a page of it, when `page` is given) cut into records."""
    return [_record(doc, chunk, i, title, page) for i, chunk in enumerate(chunk_text(text, chunk_size, overlap))]


def _record(doc: str, chunk: str, i: int, title: str | None, page: int | None) -> Record:
    base: dict[str, object] = {"source": doc}
    if page is not None:
        base["page"] = page
    if title:
        base["title"] = title
    prefix = f"{doc}#" if page is None else f"{doc}#p{page}."
    return Record(f"{prefix}{i}", chunk, {**base, "chunk": i}, doc_id=doc)


def read_html(markup: str) -> HtmlText:
    """The visible text (paragraphs apart by a blank line, entities decoded; scripts, styles and
    comments dropped) and the <title>."""
    parser = _Visible()
    parser.feed(markup)
    parser.close()
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", "".join(parser.parts))
    return HtmlText(_clean(" ".join(parser.title)) or None, re.sub(r"\n{3,}", "\n\n", text).strip())


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_HIDDEN = {"script", "style", "noscript", "template", "head"}
_BLOCKS = {"p", "div", "section", "article", "aside", "header", "footer", "nav", "main", "h1",
           "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr",
           "blockquote", "pre", "figure", "figcaption", "form", "fieldset", "hr", "address"}


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._hidden: list[str] = []  # open hidden elements (their text is not shown)
        self._in_title = False
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.title:
            self._in_title = True
        elif tag == "title":  # another one: an SVG image's tooltip, not shown
            self._hidden.append(tag)
        elif tag == "body" and "head" in self._hidden:  # a <head> left open ends here
            self._hidden.clear()
        elif tag in _HIDDEN:
            self._hidden.append(tag)
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
            self._pre += tag == "pre"
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
        elif tag in self._hidden:  # also closes what was left open inside it
            del self._hidden[len(self._hidden) - 1 - self._hidden[::-1].index(tag):]
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
            self._pre -= tag == "pre" and self._pre > 0

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._hidden:
            self.parts.append(data if self._pre else re.sub(r"\s+", " ", data))
