"""Files -> records for `ingest`: .txt/.md/.rst chunked, .pdf pages and .html/.htm visible text
chunked (hybridstore.documents reads them), .jsonl rows, BEIR folders, and image files (one
record each, its image and no text) when an image model is configured.

Every input problem (undecodable or malformed files, bad JSONL lines, empty documents,
duplicate ids, files that vanish) becomes a `Problem` naming the file (and line), and the
input is skipped; nothing here raises for bad data.

Ids: a file's document id is its absolute path with symlinks resolved, so it is the same
however the path is typed (``notes``, ``./notes``, ``/home/me/notes``); a chunk's id is
``<document id>#<n>`` (a PDF page's ``<document id>#p<page>.<n>``); an image's ``<document id>#image``; a JSONL row keeps its ``id`` (else
``<document id>:<line>``). Every
record names its file in ``metadata["source"]`` (LangChain's convention), or in
``metadata["source_file"]`` when a JSONL row brings its own ``source``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import beir
from ..documents import DocumentError, chunk_records, page_images, page_records, read_html, read_pdf
from ..records import Record
from .decoding import decode

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst"}
HTML_SUFFIXES = {".html", ".htm"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
SOURCE_KEYS = ("source_file", "source")  # where a record's file is named, first match wins
VIA_KEY = "source_via"  # the path in an ingested folder a file was read through (a symlink)
EMPTY = f"{beir.EMPTY}; skipped"


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Inputs:
    """What the given paths hold: records (ids unique), the files read, what was skipped."""

    records: list[Record] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # files in folders not read, and why
    textless: list[str] = field(default_factory=list)  # PDFs' pages without text, left out
    empty: int = 0  # empty documents skipped (also listed as problems)
    unread: set[str] = field(default_factory=set)  # files that no longer decode: their records go
    _seen: dict[str, str] = field(default_factory=dict)  # record id -> where it was read
    _files_seen: set[str] = field(default_factory=set)  # real paths, so a symlinked file is read once

    @property
    def ids(self) -> set[str]:
        """Every id read, also those skipped as read before."""
        return set(self._seen)

    def add(self, record: Record, where: str) -> None:
        first = self._seen.get(record.id)
        if first is not None:
            self.problems.append(Problem(where, f"id {record.id!r} was already read from {first}; skipped"))
            return
        self._seen[record.id] = where
        self.records.append(record)

    def first_time(self, path: Path) -> bool:
        """Whether this file (by its real path) is met for the first time in this run."""
        real = doc_id(path)
        fresh = real not in self._files_seen
        self._files_seen.add(real)
        return fresh


def missing(paths: list[str]) -> list[str]:
    return [p for p in paths if not os.path.exists(p)]


def read(paths: list[str], chunk_size: int, overlap: int, encoding: str, images: bool = False,
         pages_dpi: int | None = None) -> Inputs:
    """`images`: an image model is configured, so image files are records too. `pages_dpi`: a
    page model is configured, so PDF pages are stored as images too, rendered at that resolution
    when embedded (see `documents.page_images`)."""
    inputs = Inputs()
    for root in map(Path, paths):
        for f, explicit in _files(root):
            before = len(inputs.records)
            home = _beir_home(f)
            if home is not None and f.name == "corpus.jsonl":
                _jsonl(f, inputs, beir=True)
            elif home is not None and not explicit:
                inputs.ignored.append(f"{f} (BEIR queries or judgements, read by eval)")
            elif f.suffix.lower() in TEXT_SUFFIXES | HTML_SUFFIXES:
                _text(f, inputs, chunk_size, overlap, encoding)
            elif f.suffix.lower() == ".pdf":
                _pdf(f, inputs, chunk_size, overlap, pages_dpi)
            elif f.suffix.lower() == ".jsonl":
                _jsonl(f, inputs, encoding=encoding)
            elif f.suffix.lower() in IMAGE_SUFFIXES and images:
                _image(f, inputs)
            elif explicit and f.suffix.lower() in IMAGE_SUFFIXES:
                inputs.problems.append(Problem(str(f), "an image: pass --image MODEL to index images; skipped"))
            elif explicit:
                inputs.problems.append(Problem(str(f), "not a .txt, .md, .rst, .jsonl, .pdf or .html file; skipped"))
            else:
                inputs.ignored.append(str(f))
            if not explicit:
                _mark_via(inputs.records[before:], root, f)
    return inputs


def _beir_home(f: Path) -> Path | None:
    """The BEIR folder this file belongs to (its corpus, queries or qrels), if any."""
    for home in (f.parent, f.parent.parent) if f.parent.name == "qrels" else (f.parent,):
        if beir.is_beir(home) and (f.name in ("corpus.jsonl", "queries.jsonl") or home != f.parent):
            return home
    return None


def _mark_via(records: list[Record], root: Path, f: Path) -> None:
    """Records of a file reached through a symlink also name the path inside the folder
    (`VIA_KEY`): their source lies elsewhere, and --sync must find them when the link goes."""
    via = os.path.join(os.path.realpath(root), os.path.relpath(f, root))
    for r in records:
        if source_of(r.metadata) != via:
            r.metadata[VIA_KEY] = via


def doc_id(path: Path) -> str:
    return os.path.realpath(path)


def source_of(metadata: dict[str, Any]) -> str | None:
    return next((metadata[k] for k in SOURCE_KEYS if isinstance(metadata.get(k), str)), None)


def _files(root: Path) -> Iterator[tuple[Path, bool]]:
    if not root.is_dir():
        yield root, True
        return
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # .git, .venv, ...
        for name in sorted(names):
            if not name.startswith("."):
                yield Path(folder) / name, False


def _bytes(path: Path, inputs: Inputs) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        inputs.problems.append(Problem(str(path), "vanished before it was read; skipped"))
    except OSError as e:
        inputs.problems.append(Problem(str(path), f"cannot be read ({e.strerror}); skipped"))
    return None


def _unreadable(path: Path, inputs: Inputs, problem: str) -> None:
    """Its content is unknown now: what an earlier run stored of it goes."""
    inputs.unread.add(doc_id(path))
    inputs.problems.append(Problem(str(path), f"{problem}; skipped (anything an earlier run stored "
                                              "from it is removed: its content is unknown now)"))


def _decode(path: Path, encoding: str, inputs: Inputs) -> str | None:
    data = _bytes(path, inputs)
    if data is None:
        return None
    text, problem = decode(data, encoding)
    if problem:
        _unreadable(path, inputs, problem)
    return text


def _text(path: Path, inputs: Inputs, size: int, overlap: int, encoding: str) -> None:
    if not inputs.first_time(path):
        return
    text = _decode(path, encoding, inputs)
    if text is None:
        return
    doc = doc_id(path)
    if path.suffix.lower() in HTML_SUFFIXES:
        html = read_html(text)
        records = chunk_records(doc, html.text, size, overlap, html.title)
    else:
        records = chunk_records(doc, text, size, overlap)
    if not records:
        inputs.empty += 1
        inputs.problems.append(Problem(str(path), EMPTY))
    _add_all(records, path, inputs)


def _add_all(records: list[Record], path: Path, inputs: Inputs) -> None:
    for r in records:
        inputs.add(r, f"{path}#{r.id.rsplit('#', 1)[1]}")
    inputs.files.add(doc_id(path))


def _pdf(path: Path, inputs: Inputs, size: int, overlap: int, pages_dpi: int | None = None) -> None:
    """Each page's text chunked (with `pages_dpi`, each page's image on its first chunk); an
    encrypted or damaged PDF, or one without text and not read as images, is skipped (and what an
    earlier run stored of it removed)."""
    if not inputs.first_time(path):
        return
    data = _bytes(path, inputs)
    if data is None:
        return
    try:
        pdf = read_pdf(data)
        images = page_images(path, pages_dpi, len(pdf.pages)) if pages_dpi is not None else None
        records = page_records(doc_id(path), pdf, size, overlap, images)
    except DocumentError as e:
        _unreadable(path, inputs, str(e))
        return
    if pdf.textless():  # not an error (blank pages are common), but never left out unsaid
        inputs.textless.append(f"{path}: page {', '.join(map(str, pdf.textless()))}")
    _add_all(records, path, inputs)


def _image(path: Path, inputs: Inputs) -> None:
    """One record: the image (read again by the model when embedded), no text. A file that is
    not a readable image is a problem here (the core's check), not an error half-way through."""
    from ..errors import InvalidInputError
    from ..image_sources import check_image

    if not inputs.first_time(path):
        return
    if not path.is_file():
        inputs.problems.append(Problem(str(path), "vanished before it was read; skipped"))
        return
    try:
        check_image(str(path), path)
    except InvalidInputError as e:
        inputs.problems.append(Problem(str(path), f"not a readable image ({e.__cause__ or e}); skipped"))
        return
    doc = doc_id(path)  # the image too, so it is the same however the path was typed
    inputs.add(Record(f"{doc}#image", "", {"source": doc}, doc_id=doc, image=doc), str(path))
    inputs.files.add(doc)


def _jsonl(path: Path, inputs: Inputs, beir: bool = False, encoding: str = "utf-8") -> None:
    if not inputs.first_time(path):
        return
    text = _decode(path, encoding, inputs)
    if text is None:
        return
    doc = doc_id(path)
    inputs.files.add(doc)
    for n, line in enumerate(text.split("\n"), 1):  # JSON strings may hold U+2028 and the like
        if line.strip():  # blank lines (a trailing one is common) are not rows
            found = (_beir_row if beir else _row)(line, doc, n)
            found = found if isinstance(found, str) else _storable(found)
            if isinstance(found, str):
                inputs.empty += found == EMPTY
                inputs.problems.append(Problem(f"{path}:{n}", found))
            else:
                inputs.add(found, f"{path}:{n}")


def _storable(record: Record) -> Record | str:
    """The record, or why the core would refuse this row (NaN, a lone surrogate, a too large
    integer), found here so that the row alone is skipped, not the run stopped part-way."""
    from ..errors import InvalidInputError
    from ..qdrant.payload import validate_records

    try:
        validate_records([record])
    except InvalidInputError as e:
        return f"{e}; skipped"
    return record


def _parse(line: str) -> dict[str, Any] | str:
    """The row, or why the line is not one."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        return f"not JSON ({e.msg} at column {e.colno}); skipped"
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__}, not an object; skipped"
    return row


def _row(line: str, doc: str, n: int) -> Record | str:
    """The line's record, or why it is not one."""
    row = _parse(line)
    if isinstance(row, str):
        return row
    text = row.get("text", row.get("page_content"))
    if not isinstance(text, str):
        return "no \"text\" (or \"page_content\") string; skipped"
    if not text.strip():
        return EMPTY
    metadata = row.get("metadata") or {}
    if not isinstance(metadata, dict):
        return "\"metadata\" is not an object; skipped"
    rid = row.get("id", row.get("_id"))
    rid = f"{doc}:{n}" if rid is None or rid == "" else str(rid)
    metadata = {**metadata, ("source_file" if "source" in metadata else "source"): doc}
    parent = row.get("doc_id")
    return Record(rid, text, metadata, doc_id=str(parent) if parent not in (None, "") else rid)


def _beir_row(line: str, doc: str, n: int) -> Record | str:
    row = _parse(line)
    if isinstance(row, str):
        return row
    record, problem = beir.to_record(row)
    if record is None:
        return f"{problem}; skipped"
    record.metadata["source"] = doc
    return record
