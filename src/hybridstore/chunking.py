"""Splitting long texts into chunks for the CLI: paragraphs packed up to a size, long
paragraphs cut on word boundaries with an overlap."""

from __future__ import annotations

import re


def chunk_text(text: str, size: int = 1200, overlap: int = 150) -> list[str]:
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError("chunk size must be positive and overlap within [0, size)")
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        pieces.extend(_cut(para, size, overlap) if len(para) > size else [para] if para else [])
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= size:
            chunks[-1] += "\n\n" + piece
        else:
            chunks.append(piece)
    return chunks


def _cut(text: str, size: int, overlap: int) -> list[str]:
    out: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            space = text.rfind(" ", start + size // 2, end)
            end = space if space > start else end
        out.append(text[start:end].strip())
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
        space = text.find(" ", start, end)
        start = space + 1 if 0 <= space < end else start
    return [c for c in out if c]
