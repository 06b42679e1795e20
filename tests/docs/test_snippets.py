"""Every code block of README.md and docs/*.md runs as written (see `markdown` for the
directives that skip a block, with its reason, or give it hidden setup)."""

from __future__ import annotations

import ast
import asyncio
import gc
import inspect
import json

import pytest

from .markdown import DOCS, blocks

RUN = {"python", "json"}  # languages run here; the CLI's blocks: test_cli_docs
PYTHON_DOCS = [d for d in DOCS if any(b.lang == "python" for b in blocks(d))]


def test_every_block_is_run_or_excused():
    """A block of a language no test runs must say why it is not run."""
    from .test_cli_docs import CLI_LANGS

    loose = [b.where for d in DOCS for b in blocks(d) if b.skip is None and b.lang not in RUN | CLI_LANGS]
    assert not loose, f"blocks no test runs (add <!-- test: skip: why --> or a language): {loose}"


@pytest.mark.parametrize("doc", [d for d in DOCS if any(b.lang == "json" for b in blocks(d))],
                         ids=lambda d: d.name)
def test_json_blocks_parse(doc):
    for b in blocks(doc):
        if b.lang == "json" and b.skip is None:
            json.loads(b.code)


@pytest.mark.parametrize("doc", PYTHON_DOCS, ids=lambda d: d.name)
def test_python_blocks_run(doc, docs_pack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HYBRIDSTORE_MODELS", str(docs_pack))
    monkeypatch.delenv("HYBRIDSTORE_ENGINE", raising=False)  # the docs describe the defaults
    namespace: dict = {"__name__": "__docs__"}
    try:
        for b in blocks(doc):
            if b.lang == "python" and b.skip is None:
                _run(b, namespace)
    finally:
        _close(namespace)


def _run(block, namespace: dict) -> None:
    code = compile(block.setup + block.code, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    try:
        result = eval(code, namespace)
        if inspect.iscoroutine(result):
            asyncio.run(result)
    except Exception as e:  # noqa: BLE001 - reported with the block that failed, then the test fails
        pytest.fail(f"{block.where} fails as written: {type(e).__name__}: {e}", pytrace=False)


def _close(namespace: dict) -> None:
    """Close what the blocks opened (indexes and stores hold their folders)."""
    for value in list(namespace.values()):
        close = getattr(value, "close", None)
        if callable(close) and type(value).__module__.startswith("hybridstore"):
            close()
    namespace.clear()
    gc.collect()

