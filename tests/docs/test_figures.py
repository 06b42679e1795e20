"""Every figure of a marked section of the docs comes from its results file (`figures`)."""

from __future__ import annotations

import pytest

from .figures import found, sections, values
from .markdown import DOCS, ROOT

MARKED = [d for d in DOCS if "<!-- figures:" in d.read_text()]


def test_some_sections_are_marked():
    assert MARKED


@pytest.mark.parametrize("doc", MARKED, ids=lambda d: d.name)
def test_quoted_figures_are_in_their_results(doc):
    wrong = []
    for files, quoted in sections(doc, ROOT):
        missing = [f for f in files if not f.is_file()]
        assert not missing, f"{doc.name} names results files that do not exist: {missing}"
        numbers = values(files)
        wrong += [f"{q.where}: {q.text!r}" for q in quoted if not found(q, numbers)]
    assert not wrong, ("figures not found in their results files (units: ms, s, GiB of MiB, "
                       "B; GB is refused):\n" + "\n".join(wrong))
