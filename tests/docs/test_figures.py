"""Every figure a reader meets in README.md and docs/*.md comes from a results file.

A figure is a number written with decimals or with a unit of time, size, rate or ratio (ms,
µs, s, minutes, hours, GiB, MiB, KiB, GB, MB, KB, B, bytes, points/s, docs/s, x, %), in prose:
fenced code, HTML comments, text in backticks and the generated table of tested versions are
not read (figures.py). Inside a ``<!-- figures: FILES -->`` section each figure must be a
value of FILES (``test_quoted_figures_are_in_their_results``); outside every section there must
be none (``test_no_figure_outside_a_section``).

The rule is strict and simple, so a few numbers that are not measurements match it: versions,
defaults and settings, targets the issues set, sizes of inputs and shapes. Each is on
``NOT_MEASURED`` below, as a pattern with its reason; its text is not read as a figure
anywhere in that doc (inside sections too), and a pattern that no longer matches fails (it
would hide the next figure written there). A whole section is left out only by
``UNCHECKED_SECTIONS``. Not caught: a measurement written as a plain integer without a unit (a
table cell whose header names the unit); keep those inside a figures section.
"""

from __future__ import annotations

import re

import pytest

from .figures import found, outside, prose, sections, values
from .markdown import DOCS, ROOT

MARKED = [d for d in DOCS if "<!-- figures:" in d.read_text()]

# (doc, pattern, reason): text that matches the rule but measures nothing.
TARGET = "a target an issue set, not a measurement"
VERSION = r"(?<![\w.])(3\.1[0-3]|1\.1[6-9]|1\.2[03]|1\.0|2\.12)(?![\w.]|\s?(?:m?s|x|%|[GMK]i?B)\b)"
NOT_MEASURED = [
    ("README.md", r"Python >= 3\.11", "the Python version declared"),
    ("docs/benchmarks.md", r"paired( bootstrap)? 95%", "the bootstrap interval's confidence level"),
    ("docs/benchmarks.md", r"the 20x target", TARGET),
    ("docs/benchmarks.md", r">= 20x", TARGET),
    ("docs/benchmarks.md", r">= 1\.3x", TARGET),
    ("docs/benchmarks.md", r"< 5 ms", TARGET),
    ("docs/benchmarks.md", r"the 4x figure", TARGET),
    ("docs/benchmarks.md", r"(?<![\d.])8 ms", "the query-latency target the path is compared with"),
    ("docs/benchmarks.md", r"the 1\.8x this issue asks", TARGET),
    ("docs/benchmarks.md", r"the 1\.78x the issue quotes", "a figure the issue quotes, not ours"),
    ("docs/benchmarks.md", r"within the 0\.005 the issue allows", TARGET),
    ("docs/benchmarks.md", r"target under 5%", TARGET),
    ("docs/cli.md", r"every 30 s", "how often the CLI prints progress (a setting)"),
    ("docs/compatibility.md", VERSION, "versions of Python and of the dependencies"),
    ("docs/engines.md", r"edge 0\.9", "a version"),
    ("docs/engines.md", r"ticking every 10 ms", "the build-stall test's setting"),
    ("docs/engines.md", r"over 100 ms", "the build-stall test's bound"),
    ("docs/engines.md", r"\(16 x 128\)", "the shape of the synthetic multivectors"),
    ("docs/llama_index.md", r"default 0\.5", "a default"),
    ("docs/reliability.md", r"0 to 0\.2 s after", "the durability test's kill times (a setting)"),
    ("docs/reliability.md", r"cosine below 0\.8", "the embedding check's threshold (a setting)"),
    ("docs/reliability.md", r"\(1\.16 or later\)", "a server version"),
    ("docs/reliability.md", r"0\.25, 0\.5, 1 s", "the retry schedule's defaults"),
    ("docs/reliability.md", r"capped at 5 s", "the retry schedule's default"),
    ("docs/scaling.md", r"\(4x smaller\)", "4 bytes to 1, by construction"),
    ("docs/scaling.md", r"\| 2\.0 \|", "the default oversampling"),
    ("docs/scaling.md", r"rescore 2 x k", "the default oversampling"),
    ("docs/scaling.md", r"(?<![\d.])8 GiB", "the memory limit of the cgroup runs (a setting)"),
    ("docs/scaling.md", r"the 10 ms asked", TARGET),
    ("docs/scaling.md", r"tick(?:s|ing)? every 5 ms|a 5 ms ticker", "the ticker's interval (a setting)"),
    ("docs/scaling.md", r"0\.5 s into", "when the probe search is issued (a setting)"),
    ("docs/scaling.md", r"the 0\.95 asked", TARGET),
    ("docs/scaling.md", r"the 5 s asked", TARGET),
    ("docs/scaling.md", r"256 MB of vectors per CPU", "edge's default segment size"),
    ("docs/scaling.md", r"1,536 (bytes|B)", "384 float32 numbers: the dense vector's size"),
    ("docs/scaling.md", r"768 as float16", "384 float16 numbers"),
]

UNCHECKED_SECTIONS: dict[str, tuple[str, ...]] = {}


def allowed(doc) -> list[str]:
    name = str(doc.relative_to(ROOT))
    return [pattern for d, pattern, _ in NOT_MEASURED if d == name]


def test_some_sections_are_marked():
    assert MARKED


@pytest.mark.parametrize("doc", MARKED, ids=lambda d: d.name)
def test_quoted_figures_are_in_their_results(doc):
    wrong = []
    for files, quoted in sections(doc, ROOT, allowed(doc)):
        missing = [f for f in files if not f.is_file()]
        assert not missing, f"{doc.name} names results files that do not exist: {missing}"
        numbers = values(files)
        wrong += [f"{q.where}: {q.text!r}" for q in quoted if not found(q, numbers)]
    assert not wrong, ("figures not found in their results files (units: ms, s, GiB of MiB, "
                       "KiB and B of bytes, % of fractions; GB is refused):\n" + "\n".join(wrong))


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_no_figure_outside_a_section(doc):
    skip = UNCHECKED_SECTIONS.get(str(doc.relative_to(ROOT)), ())
    loose = [f"{q.where}: {q.text!r}" for q in outside(doc, ROOT, allowed(doc), skip)]
    assert not loose, (
        "figures outside a <!-- figures: FILES --> section: put them in one naming the results "
        "file they come from, or write them without the number (a measurement without a results "
        "file is not quoted); versions, defaults and targets go on NOT_MEASURED with the reason:\n"
        + "\n".join(loose))


def test_every_exception_is_still_needed():
    stale = []
    for doc, pattern, _ in NOT_MEASURED:
        text = "\n".join(line.text for line in prose(ROOT / doc, ROOT))
        if not re.search(pattern, text):
            stale.append(f"{doc}: {pattern}")
    for doc, headings in UNCHECKED_SECTIONS.items():
        lines = (ROOT / doc).read_text().splitlines()
        stale += [f"{doc}: {h}" for h in headings if h not in lines]
    assert not stale, "exceptions that match nothing:\n" + "\n".join(stale)


def test_the_rule_on_a_small_doc(tmp_path):
    (tmp_path / "r.json").write_text('{"search": {"p50_s": 0.0015}}')
    doc = tmp_path / "doc.md"
    doc.write_text("# Doc\nA search took 4.2 ms, on UTF-8 bytes; `timeout=2.5`, Python 3.11.\n"
                   "```python\nx = 1.5  # 3 ms\n```\n<!-- a comment, 9.9 ms -->\n"
                   "<!-- figures: r.json -->\nOne search took 1.5 ms, another 2.5 ms.\n"
                   "<!-- /figures -->\n## Pending\nIt took 7.7 s.\n### More\n8.8 s.\n"
                   "## Next\nUnder the 10 ms asked, 1.22x-1.38x.\n")
    loose = outside(doc, tmp_path, [r"the 10 ms asked"], ("## Pending",))
    assert [q.text for q in loose] == ["4.2 ms", "3.11", "1.22x", "1.38x"]
    [(files, quoted)] = sections(doc, tmp_path)
    assert files == [tmp_path / "r.json"]
    assert [found(q, values(files)) for q in quoted] == [True, False]
