"""The images records carry: checks, the source a payload keeps and the digest a content hash
takes. A leaf (no model code), so the payload layer and the image models both build on it."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from PIL import Image

from .errors import InvalidInputError


@dataclass(frozen=True)
class PdfPage:
    """Page `page` (1-based) of the PDF file at `path`, as a record's image for a page model:
    rendered at `dpi` when the batch that holds it is embedded (one render gives its digest and
    its vectors, `rendered`) and dropped with the batch, so a folder of long PDFs costs a batch
    of renders, not every page at once. Stored as its source, ``<path>#page=<n>&dpi=<dpi>``,
    which `reembed` renders again. `png`: the render, once made."""

    path: str  # made absolute, symlinks resolved
    page: int
    dpi: int = 100
    png: bytes | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:  # stored as an absolute path: read again from anywhere
        object.__setattr__(self, "path", os.path.realpath(os.fspath(self.path)))

    def __str__(self) -> str:
        return f"{self.path}#page={self.page}&dpi={self.dpi}"

    @classmethod
    def parse(cls, text: str) -> PdfPage | None:
        found = _PAGE.fullmatch(text)
        return cls(found[1], int(found[2]), int(found[3])) if found else None

    def render(self) -> bytes:
        if self.png is not None:
            return self.png
        from .rendering import render_page  # pypdfium2 loads only when a PDF page is read

        return render_page(self.path, self.page, self.dpi)

    def rendered(self) -> PdfPage:
        """This page with its render kept (for one batch: its digest, then its vectors)."""
        return self if self.png is not None else replace(self, png=self.render())


_PAGE = re.compile(r"(.+)#page=([0-9]+)&dpi=([0-9]+)", re.DOTALL)

# What a record's image may be: a file path, its bytes, a PIL image or a PDF page.
ImageInput = str | Path | bytes | bytearray | Image.Image | PdfPage


def page_of(image: object) -> PdfPage | None:
    """The PDF page an image is: given as one, or its stored source read back (a string that
    names no file)."""
    if isinstance(image, PdfPage):
        return image
    if isinstance(image, str) and "#page=" in image and not Path(image).is_file():
        return PdfPage.parse(image)
    return None


def rereadable(image: object) -> bool:
    """The image can be read again from what the payload kept: a file, or a page of one."""
    page = page_of(image)
    return Path(page.path if page is not None else str(image)).is_file()


def check_image(who: str, image: object) -> None:
    """A record's image: a file path (str or Path) that exists, bytes, a PIL image, or a page
    of a PDF file that has it."""
    if isinstance(image, (str, Path)) and "://" in str(image):
        raise InvalidInputError(f"{who}: image {str(image)!r} is a URL; hybridstore "
                                "reads local files only: download it first and give the path")
    page = page_of(image)
    if page is not None:
        _check_page(who, page)
        return
    if isinstance(image, (str, Path)):
        text = str(image)
        if not Path(text).is_file():
            raise InvalidInputError(f"{who}: image file {text!r} does not exist")
    elif not isinstance(image, (bytes, bytearray, Image.Image)):
        raise InvalidInputError(f"{who}: {_not_an_image(image)}")
    if not isinstance(image, Image.Image):
        _readable(who, image)


def _readable(who: str, image: str | Path | bytes | bytearray) -> None:
    """The file or bytes decode as an image (every pixel: a truncated JPEG passes a header check
    and would fail half-way through an add)."""
    try:
        with Image.open(io.BytesIO(image) if isinstance(image, (bytes, bytearray)) else image) as opened:
            opened.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:  # what PIL raises for bad data
        raise InvalidInputError(f"{who}: the image cannot be read ({e}); give a PNG, JPEG, WebP "
                                "or another format Pillow opens") from e


def _check_page(who: str, page: PdfPage) -> None:
    if not Path(page.path).is_file():
        raise InvalidInputError(f"{who}: PDF file {page.path!r} (image {str(page)!r}) does not exist")
    if page.dpi <= 0:
        raise InvalidInputError(f"{who}: PdfPage dpi={page.dpi}: give a positive resolution, e.g. 100")
    stat = os.stat(page.path)
    count = _page_count(page.path, stat.st_mtime_ns, stat.st_size)
    if not 1 <= page.page <= count:
        raise InvalidInputError(f"{who}: PDF file {page.path!r} has {count} page(s), not a page "
                                f"{page.page} (pages count from 1)")


@functools.lru_cache(maxsize=64)  # each record of a long PDF asks: open it once
def _page_count(path: str, mtime_ns: int, size: int) -> int:
    from .rendering import page_count  # pypdfium2 loads only when a PDF page is read

    return page_count(path)


def source(image: ImageInput) -> str:
    """What the payload keeps of an image: its path (a PDF page: its path, page and dpi), else a
    digest of its bytes (never the bytes)."""
    if isinstance(image, (str, Path, PdfPage)):
        return str(image)
    return f"sha256:{digest(image)}"


def digest(image: ImageInput) -> str:
    """The image's content: a changed file re-embeds, a renamed copy does not. A stored
    source read back (a digest, or a path gone since) stands for itself."""
    if isinstance(image, str) and image.startswith("sha256:"):
        return image[len("sha256:"):]
    page = page_of(image)
    if page is not None:
        if page.png is None and not Path(page.path).is_file():
            return f"missing:{page}"
        return hashlib.sha256(page.render()).hexdigest()  # the render: a PDF's other pages may change
    if isinstance(image, (str, Path)):
        if not Path(image).is_file():
            return f"missing:{image}"
        data = Path(image).read_bytes()
    elif isinstance(image, (bytes, bytearray)):
        data = bytes(image)
    elif isinstance(image, Image.Image):
        data = image.tobytes() + repr((image.mode, image.size)).encode()
    else:  # a PdfPage was read above
        raise InvalidInputError(_not_an_image(image))
    return hashlib.sha256(data).hexdigest()


def _not_an_image(image: object) -> str:
    return f"image must be a file path, bytes, a PIL image or a PdfPage, got {type(image).__name__}"


def openable(image: ImageInput) -> str | IO[bytes] | Image.Image:
    """What fastembed opens: paths as str, bytes (and a PDF page's render) wrapped in a file
    object, PIL images as they are."""
    page = page_of(image)
    if page is not None:
        return io.BytesIO(page.render())
    if isinstance(image, (str, Path)):
        return str(image)
    if isinstance(image, (bytes, bytearray)):
        return io.BytesIO(bytes(image))
    if isinstance(image, Image.Image):
        return image
    raise InvalidInputError(_not_an_image(image))
