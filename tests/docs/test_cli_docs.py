"""The command-line blocks of the docs run as written.

- ```console``` blocks are transcripts: each ``$ hybridstore ...`` line runs (``$ echo $?``
  prints the last exit status) and what it prints is compared with the lines shown under it:
  decimals (timings, scores) are masked, the working folder reads as ``/tmp/clidoc``, a
  ``...`` line stands for any lines, blank lines and unindented ``# ...`` lines are prose,
  and the progress lines printed when stderr is not a terminal are left out.
- ```bash``` blocks are command lists: each ``hybridstore ...`` line must exit 0.

Blocks of one file run in order in one working folder; a ``<!-- test: setup -->`` directive's
Python runs there first (it makes the files the block reads).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from .markdown import DOCS, ROOT, blocks

CLI_LANGS = {"console", "bash"}
SHOWN_CWD = "/tmp/clidoc"
PROGRESS = re.compile(r"^\w+: \d+/\d+ rec \(\d+%\)")  # progress lines a terminal shows as a bar
CLI_DOCS = [d for d in DOCS if any(b.lang in CLI_LANGS and b.skip is None for b in blocks(d))]


@pytest.mark.parametrize("doc", CLI_DOCS, ids=lambda d: d.name)
def test_cli_blocks_run(doc, docs_pack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "HYBRIDSTORE_MODELS": str(docs_pack), "PYTHONPATH": str(ROOT / "src"),
           "COLUMNS": "200"}
    env.pop("HYBRIDSTORE_ENGINE", None)  # the docs describe the defaults
    for block in blocks(doc):
        if block.lang not in CLI_LANGS or block.skip is not None:
            continue
        if block.setup:
            exec(compile(block.setup, block.where, "exec"), {"__name__": "__docs__"})
        if block.lang == "console":
            _transcript(block, tmp_path, env)
        else:
            _commands(block, env)


def _run(line: str, env: dict) -> subprocess.CompletedProcess:
    argv = shlex.split(line, comments=True)
    assert argv and argv[0] == "hybridstore", f"only hybridstore commands run here: {line!r}"
    return subprocess.run([sys.executable, "-m", "hybridstore.cli", *argv[1:]], env=env,
                          capture_output=True, text=True, timeout=600)


def _commands(block, env: dict) -> None:
    for n, line in enumerate(block.code.splitlines(), block.line + 1):
        if line.strip() and not line.lstrip().startswith("#"):
            done = _run(line, env)
            assert done.returncode == 0, f"{block.where} (line {n}) exits {done.returncode}: {done.stderr[-1500:]}"


def _transcript(block, cwd: Path, env: dict) -> None:
    status = 0
    for command, shown in _steps(block.code):
        if command == "echo $?":
            printed = [str(status)]
        else:
            done = _run(command, env)
            status = done.returncode
            printed = (done.stdout + done.stderr).splitlines()
        printed = [_masked(line, cwd) for line in printed if line.strip() and not PROGRESS.match(line)]
        wanted = [_masked(line, cwd) for line in shown]
        assert _matches(wanted, printed), (
            f"{block.where}: `{command}` prints\n" + "\n".join(printed) + "\nbut the doc shows\n" + "\n".join(wanted))


def _steps(code: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:].strip(), []))
        elif line.strip() and not line.startswith("# ") and steps:
            steps[-1][1].append(line)
    return steps


def _masked(line: str, cwd: Path) -> str:
    line = line.replace(str(cwd.resolve()), SHOWN_CWD).replace(str(cwd), SHOWN_CWD)
    return re.sub(r"\d+\.\d+", "N", line).rstrip()


def _matches(wanted: list[str], printed: list[str]) -> bool:
    """`printed` as `wanted` shows it, a "..." line standing for any lines."""
    if not wanted:
        return not printed
    if wanted[0].strip() == "...":
        return any(_matches(wanted[1:], printed[i:]) for i in range(len(printed) + 1))
    return bool(printed) and wanted[0] == printed[0] and _matches(wanted[1:], printed[1:])
