"""The README's tested-versions table, the floors the compat run pins and the Python versions it
runs all come from pyproject.toml and .ci/compat: these tests keep them from drifting apart."""

from __future__ import annotations

import re

from .floors import ROOT, pythons, requirements, table


def test_the_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- tested-versions[^>]*-->\n(.*?)\n<!-- /tested-versions -->", readme, re.DOTALL)
    assert found, "README.md lost its tested-versions table"
    assert found.group(1) == table(), "README.md's table is stale: paste `python tests/compat/floors.py table`"


def test_requires_python_is_the_floor_the_compat_run_tests():
    readme_floor, _ = pythons()
    text = (ROOT / "pyproject.toml").read_text()
    assert f'requires-python = ">={readme_floor}"' in text


def test_every_declared_dependency_has_a_floor():
    names = [name for name, _, _ in requirements()]
    assert {"qdrant-client", "qdrant-edge-py", "fastembed", "numpy", "pydantic", "langchain-core",
            "llama-index-core", "mcp", "pypdfium2"} <= set(names)
