"""Lists in the docs that name what the code has: they must name all of it."""

from __future__ import annotations

import re

from hybridstore.engine import requests

from .markdown import ROOT


def test_engines_md_names_every_request_kind():
    text = (ROOT / "docs" / "engines.md").read_text()
    kinds = {c.__name__ for c in requests.Request.__subclasses__()}
    section = text.split("## The engine interface", 1)[1].split("##", 1)[0]
    named = set(re.findall(r"^\| `(\w+)\(", section, re.MULTILINE))  # the table: `Count(filter)` | ...
    assert kinds - named == set(), f"docs/engines.md does not name the requests {sorted(kinds - named)}"
    assert named - kinds == set(), f"docs/engines.md names requests that do not exist {sorted(named - kinds)}"
    assert f"the {len(kinds)} requests" in section


def test_every_path_the_docs_name_exists():
    """`tests/...`, `benchmarks/...`, `examples/...`, `src/...`, `docs/...` in backticks."""
    from .markdown import DOCS

    missing = []
    for doc in DOCS:
        for n, line in enumerate(doc.read_text().splitlines(), 1):
            for path in re.findall(r"`((?:tests|benchmarks|examples|src|docs)/[\w./*-]*\w)", line):
                if not any(ROOT.glob(path)):
                    missing.append(f"{doc.relative_to(ROOT)}:{n}: {path}")
    assert not missing, "paths named in the docs that do not exist:\n" + "\n".join(missing)
