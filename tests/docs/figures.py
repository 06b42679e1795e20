"""Figures quoted in the docs, found in the results files they come from.

A section of a doc that starts with

    <!-- figures: benchmarks/results/scale.json benchmarks/results/scale-1m.json -->

and ends at ``<!-- /figures -->`` quotes measurements: each number in it that has decimals or
a unit (``4.14 ms``, ``553 points/s``, ``2.4 GiB``, ``1.28x``) must be a value of those files
(any number in them, at any depth) rounded as shown, in the unit shown: the files keep seconds,
milliseconds and MiB, so ``ms`` may be seconds x 1000, ``s`` milliseconds / 1000, ``GiB``
MiB / 1024; a number with decimals and no unit (a table cell whose header names the unit) may
be any of these; an ``x`` figure may also be the ratio of two values. GB (powers of ten) is
refused: the results are binary.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

_START = re.compile(r"<!--\s*figures:\s*(.*?)-->")
_END = "<!-- /figures -->"
_NUMBER = re.compile(r"(?<![\w.])([+\u2212-])?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s?"
                     r"(ms|s|GiB|MiB|GB|MB|KB|B|points/s|docs/s|x)?(?![\w.])")
SCALES = {"ms": (1, 1000), "s": (1, 1 / 1000), "GiB": (1 / 1024, 1), "MiB": (1,), "B": (1,),
          "points/s": (1,), "docs/s": (1,), None: (1, 1000, 1 / 1000, 1 / 1024)}


@dataclass(frozen=True)
class Quoted:
    where: str
    text: str
    value: float
    decimals: int
    unit: str | None
    signed: bool = False  # "+0.0237": a difference of two values


def sections(doc: Path, root: Path) -> list[tuple[list[Path], list[Quoted]]]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    out, files, quoted = [], None, []
    for n, line in enumerate(lines, 1):
        start = _START.search(line)
        if start:
            files, quoted = [root / f for f in start.group(1).split()], []
            continue
        if _END in line:
            assert files is not None, f"{doc}:{n}: {_END} closes no figures section"
            out.append((files, quoted))
            files = None
        elif files is not None:
            quoted += _numbers(line, f"{doc.relative_to(root)}:{n}")
    assert files is None, f"{doc}: a figures section is not closed with {_END}"
    return out


def _numbers(line: str, where: str) -> list[Quoted]:
    line = re.sub(r"`[^`]*`", "", line)  # code (settings, paths) is not a figure
    found = []
    for m in _NUMBER.finditer(line):
        sign, whole, frac, unit = m.groups()
        if frac is None and unit is None:
            continue  # a plain integer: a count or a setting, not a measurement
        value = float(whole.replace(",", "") + "." + (frac or "0"))
        found.append(Quoted(where, m.group(0), -value if sign in ("-", "\u2212") else value,
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
