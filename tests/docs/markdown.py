"""Code blocks of the Markdown docs, as the tests run them.

A block may be preceded by one HTML comment (invisible on GitHub) that tells the tests how
to run it:

    <!-- test: skip: needs a Qdrant server -->     not run; the reason is required
    <!-- test: setup
    docs = [Document(page_content="...")]
    -->                                            hidden Python run just before the block

Python blocks of one file run in order in one namespace (a later block may use an earlier
one's names), in a fresh working folder per file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^(`{3,})(\S*)\s*$")
_DIRECTIVE = re.compile(r"<!--\s*test:\s*(skip|setup)\b:?(.*?)-->", re.DOTALL)


@dataclass(frozen=True)
class Block:
    file: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None = None  # the reason it is not run
    setup: str = ""  # hidden code run before it

    @property
    def where(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith(m.group(1)))
        skip, setup = _directive(lines, i)
        found.append(Block(path, i + 1, m.group(2), "\n".join(lines[i + 1:end]) + "\n", skip, setup))
        i = end + 1
    return found


def _directive(lines: list[str], fence: int) -> tuple[str | None, str]:
    """The comment that ends on the line before the fence (a blank line may sit between)."""
    j = fence - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0 or not lines[j].rstrip().endswith("-->"):
        return None, ""
    start = j
    while start >= 0 and "<!--" not in lines[start]:
        start -= 1
    m = _DIRECTIVE.search("\n".join(lines[start:j + 1]))
    if not m:
        return None, ""
    kind, body = m.group(1), m.group(2)
    if kind == "skip":
        reason = body.strip()
        if not reason:
            raise ValueError(f"{path_line(lines, fence)}: 'test: skip' needs a reason")
        return reason, ""
    return None, _dedent(body)


def path_line(lines: list[str], fence: int) -> str:
    return f"line {fence + 1}"


def _dedent(code: str) -> str:
    import textwrap

    return textwrap.dedent(code.strip("\n")) + "\n"
