"""Figures quoted in the docs, found in the results files they come from.

A section of a doc that starts with

    <!-- figures: benchmarks/results/scale.json benchmarks/results/scale-1m.json -->

and ends at ``<!-- /figures -->`` quotes measurements: each number in it that has decimals or
a unit (``4.14 ms``, ``553 points/s``, ``2.4 GiB``, ``1.28x``, ``0.17%``) must be a value of
those files (any number in them, at any depth) rounded as shown, in the unit shown: the files
keep seconds, milliseconds, bytes and MiB, so ``ms`` may be seconds x 1000, ``s`` milliseconds
/ 1000, ``µs`` milliseconds x 1000, ``minutes`` seconds / 60, ``GiB`` MiB / 1024, ``KiB`` bytes
/ 1024, ``%`` a fraction x 100; a number with decimals and no unit (a table cell whose header
names the unit) may be any of these; an ``x`` figure may also be the ratio of two values, and
a signed figure (``+0.0237``) the difference of two. GB, MB and KB (powers of ten) are
refused: the results are binary.

The same numbers outside any section are figures that no results file backs (test_figures.py).
Prose only: fenced code (run by the snippet tests), HTML comments and README.md's generated
table of tested versions (tests/compat checks it) are not read, nor is text in backticks
(settings, paths).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

_START = re.compile(r"<!--\s*figures:\s*(.*?)-->")
_END = "<!-- /figures -->"
_FENCE = re.compile(r"^(`{3,})")
_COMMENT = re.compile(r"<!--.*?-->")
_GENERATED = ("<!-- tested-versions", "<!-- /tested-versions -->")  # tests/compat checks it
_NUMBER = re.compile(r"(?<![\w.])(?<![A-Za-wyz]-)"  # not a name's digits (UTF-8, ViT-B/32)
                     r"([+\u2212-])?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s?"
                     r"(ms|µs|s|minutes|hours|GiB|MiB|KiB|GB|MB|KB|B|bytes|points/s|docs/s|x|%)?"
                     r"(?!\w|\.\d)")  # a sentence may end after it; a version (0.9.0) is no number
SCALES = {"ms": (1, 1000), "s": (1, 1 / 1000), "µs": (1000, 1000_000), "minutes": (1 / 60,),
          "hours": (1 / 3600,), "GiB": (1 / 1024, 1), "MiB": (1,), "KiB": (1 / 1024, 1024),
          "B": (1,), "bytes": (1,), "points/s": (1,), "docs/s": (1,), "%": (100,),
          None: (1, 1000, 1 / 1000, 1 / 1024)}


@dataclass(frozen=True)
class Quoted:
    where: str
    text: str
    value: float
    decimals: int
    unit: str | None
    signed: bool = False  # "+0.0237": a difference of two values


@dataclass(frozen=True)
class Line:
    where: str
    text: str  # prose: code spans and comments removed
    files: tuple[Path, ...] | None  # the results files of the figures section it is in


def prose(doc: Path, root: Path, skip: tuple[str, ...] = ()) -> Iterator[Line]:
    """The prose lines of a doc, each with the figures section it is in; the sections whose
    headings are in `skip` are left out."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    files: tuple[Path, ...] | None = None
    fence, comment, skipping, generated = "", False, 0, False
    for n, line in enumerate(lines, 1):
        where = f"{doc.relative_to(root)}:{n}"
        if fence:
            fence = "" if line.startswith(fence) else fence
            continue
        if comment:
            comment = "-->" not in line
            continue
        if line.startswith(_GENERATED):
            generated = line.startswith(_GENERATED[0])
            continue
        if generated:
            continue
        if (m := _FENCE.match(line)):
            fence = m.group(1)
            continue
        heading = re.match(r"(#+) ", line)
        if heading and (not skipping or len(heading.group(1)) <= skipping):
            skipping = len(heading.group(1)) if line.strip() in skip else 0
        if skipping:
            continue
        if (start := _START.search(line)):
            assert files is None, f"{where}: a figures section opens inside another"
            files = tuple(root / f for f in start.group(1).split())
            continue
        before, end, _ = line.partition(_END)
        text = re.sub(r"`[^`]*`", "", _COMMENT.sub("", before))
        if "<!--" in text:
            comment = True
            text = text.split("<!--", 1)[0]
        yield Line(where, text, files)
        if end:
            assert files is not None, f"{where}: {_END} closes no figures section"
            files = None
    assert files is None, f"{doc}: a figures section is not closed with {_END}"


def sections(doc: Path, root: Path, allowed: Sequence[str] = ()
             ) -> list[tuple[list[Path], list[Quoted]]]:
    out: list[tuple[list[Path], list[Quoted]]] = []
    current: tuple[Path, ...] | None = None
    for line in prose(doc, root):
        if line.files is not current and line.files is not None:
            out.append((list(line.files), []))
        current = line.files
        if current is not None:
            out[-1][1].extend(numbers(line, allowed))
    return out


def outside(doc: Path, root: Path, allowed: Sequence[str], skip: tuple[str, ...]) -> list[Quoted]:
    return [q for line in prose(doc, root, skip) if line.files is None
            for q in numbers(line, allowed)]


def numbers(line: Line, allowed: Sequence[str] = ()) -> list[Quoted]:
    """The figures of a line: numbers with decimals or a unit, outside the `allowed` patterns."""
    text = line.text
    for pattern in allowed:
        text = re.sub(pattern, " ", text)
    found = []
    for m in _NUMBER.finditer(text):
        sign, whole, frac, unit = m.groups()
        if frac is None and unit is None:
            continue  # a plain integer: a count or a setting, not a measurement
        value = float(whole.replace(",", "") + "." + (frac or "0"))
        found.append(Quoted(line.where, m.group(0), -value if sign in ("-", "\u2212") else value,
                            len(frac or ""), unit, sign is not None))
    return found


def values(files: list[Path]) -> list[float]:
    out: list[float] = []
    for f in files:
        _leaves(json.loads(f.read_text()), out)
    return out


def _leaves(data: object, out: list[float]) -> None:
    if isinstance(data, bool):
        return
    if isinstance(data, (int, float)):
        out.append(float(data))
    elif isinstance(data, dict):
        for v in data.values():
            _leaves(v, out)
    elif isinstance(data, list):
        for v in data:
            _leaves(v, out)


def found(q: Quoted, numbers: list[float]) -> bool:
    if q.unit in ("GB", "MB", "KB"):
        return False
    def shown(v: float) -> bool:
        return abs(round(v, q.decimals) - q.value) < 10 ** -(q.decimals + 6)
    pairs = itertools.permutations(numbers, 2)
    if q.unit == "x":
        return any(shown(v) for v in numbers) or any(shown(a / b) for a, b in pairs if b)
    scales = SCALES.get(q.unit, (1,))
    if any(shown(v * s) for v in numbers for s in scales):
        return True
    return q.signed and any(shown((a - b) * s) for a, b in pairs for s in scales)
