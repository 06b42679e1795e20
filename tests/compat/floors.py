"""The floor of every declared dependency range, read from pyproject.toml, and a check that a
resolved environment (a `uv pip compile` lock file) really sits on those floors.

    python tests/compat/floors.py pins PYTHON        # `name==floor` lines: uv's constraints
    python tests/compat/floors.py check LOCK PYTHON  # exit 1 naming each floor the lock misses
    python tests/compat/floors.py table              # the README's tested-versions table
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = ("langchain", "llama-index", "mcp", "int8", "inspect")  # the library's own extras; dev/bench are tools


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(extras=EXTRAS) -> list[tuple[str, str, str]]:
    """(name, floor, marker) for each `name>=floor` the library declares, base and extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    out = []
    for line in lines:
        req, _, marker = line.partition(";")
        found = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][^,\s]*)", req)
        if not found:
            raise SystemExit(f"pyproject: {line!r} declares no floor (name>=version)")
        out.append((_norm(found.group(1)), found.group(2), marker.strip()))
    return out


def _applies(marker: str, python: str) -> bool:
    if not marker:
        return True
    found = re.fullmatch(r"python_version\s*(<|>=)\s*['\"]([0-9.]+)['\"]", marker)
    if not found:
        raise SystemExit(f"pyproject: marker {marker!r} is not python_version < or >= X.Y")
    have = tuple(map(int, python.split(".")))
    want = tuple(map(int, found.group(2).split(".")))
    return have < want if found.group(1) == "<" else have >= want


def _release(v: str) -> tuple[int, ...]:
    parts = [int(p) for p in re.match(r"[0-9.]+", v).group(0).strip(".").split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def check(lock: Path, python: str) -> list[str]:
    pinned = {}
    for line in lock.read_text().splitlines():
        found = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if found:
            pinned[_norm(found.group(1))] = found.group(2)
    problems = []
    for name, floor, marker in requirements():
        if not _applies(marker, python):
            continue
        got = pinned.get(name)
        if got is None:
            problems.append(f"{name}: not in {lock.name}")
        elif _release(got) != _release(floor):
            problems.append(f"{name}>={floor} is declared but the lowest installable beside the other "
                            f"floors on Python {python} is {got}: raise the floor to {got} in pyproject.toml")
    return problems


def pythons() -> tuple[str, list[str]]:
    """The floor CPython and the newest-release ones (python:engine), as .ci/compat runs them."""
    script = (ROOT / ".ci" / "compat").read_text()
    floor = re.search(r"^FLOOR_PYTHON=([0-9.]+)$", script, re.MULTILINE).group(1)
    newest = re.search(r"^NEWEST=\(([^)]*)\)$", script, re.MULTILINE).group(1).split()
    return floor, newest


def table() -> str:
    """The README's table: each declared range and the versions the tests run it at."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floor_python, newest = pythons()
    rows = ["| dependency | declared | floor, tested (`make test-compat`) | newest release, tested |",
            "| --- | --- | --- | --- |",
            f"| Python | `{project['requires-python']}` | {floor_python}, both engines | "
            f"3.11 (`make test`, the whole suite), "
            + ", ".join(f"{p.replace(':', ' (')} engine)" for p in newest) + " |"]
    declared = {_norm(re.match(r"\s*([A-Za-z0-9_.\-]+)", line).group(1)): line.split(";")[0].strip()
                for line in project["dependencies"] + [x for e in EXTRAS for x in project["optional-dependencies"][e]]}
    for name, floor, marker in requirements():
        spec = declared[name][len(name):].strip()
        rows.append(f"| {name} | `{spec}` | {floor} | on each Python above |")
    return "\n".join(rows)


def pins(python: str) -> str:
    return "\n".join(f"{n}=={f}" for n, f, marker in requirements() if _applies(marker, python))


if __name__ == "__main__":
    if sys.argv[1] == "pins":
        print(pins(sys.argv[2]))
    elif sys.argv[1] == "check":
        found = check(Path(sys.argv[2]), sys.argv[3])
        for p in found:
            print(f"FLOOR NOT MET: {p}", file=sys.stderr)
        sys.exit(1 if found else 0)
    else:
        print(table())
