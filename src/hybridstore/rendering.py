"""PDF pages rendered to PNG (PDFium, through pypdfium2): the level both `documents` (which
reads PDFs) and `image_sources` (whose `PdfPage` renders when read) build on. PDFium is not
thread-safe: every call holds `PDFIUM` (a page model renders where it embeds, in a worker
thread)."""

from __future__ import annotations

import io
import os
import threading

import pypdfium2  # type: ignore[import-untyped]  # the package ships no type information

from .errors import DocumentError

DPI = 100  # page renders: above ColPali's 448-pixel input on both sides of a letter or A4 page
PDFIUM = threading.Lock()


def render_page(path: str, page: int, dpi: int = DPI) -> bytes:
    """Page `page` (1-based) of the PDF at `path` as PNG bytes (the same bytes every time)."""
    with PDFIUM, opened(path, None) as pdf:
        if not 1 <= page <= len(pdf):
            raise DocumentError(f"{path} has {len(pdf)} page(s), not a page {page}")
        try:
            return png(pdf, page - 1, dpi)
        except DocumentError as e:
            raise DocumentError(f"{path}: {e}") from e


def page_count(path: str) -> int:
    with PDFIUM, opened(path, None) as pdf:
        return len(pdf)


class opened:
    """A PDF opened for rendering, closed after (raises DocumentError when it cannot be read)."""

    def __init__(self, source: str | os.PathLike[str] | bytes, password: str | None) -> None:
        try:
            self.pdf = pypdfium2.PdfDocument(source if isinstance(source, bytes) else os.fspath(source), password=password)
        except pypdfium2.PdfiumError as e:
            where = "" if isinstance(source, bytes) else f"{os.fspath(source)}: "
            raise DocumentError(f"{where}not a readable PDF ({e})") from e

    def __enter__(self) -> pypdfium2.PdfDocument:
        return self.pdf

    def __exit__(self, *exc: object) -> None:
        self.pdf.close()


def png(pdf: pypdfium2.PdfDocument, index: int, dpi: int) -> bytes:
    """Page `index` (0-based) of an opened PDF as PNG bytes."""
    page = pdf[index]
    try:
        image = page.render(scale=dpi / 72).to_pil()
    except pypdfium2.PdfiumError as e:
        raise DocumentError(f"page {index + 1} cannot be rendered ({e})") from e
    finally:
        page.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
