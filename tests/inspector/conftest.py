"""An on-disk index of conftest's TEXTS (and one record naming a host file), with tenants, for
the inspector's tests; the inspector's app over it, reached as a browser reaches it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hybridstore import HybridIndex, Record

from ..conftest import TEXTS

SECRET = "/home/someone/private/notes.md"  # a host path a record names in its metadata


def build(folder: Path, models) -> None:
    """TEXTS under tenants "north" (music, finance) and "south" (the rest), and a record whose
    source is a file outside the folder."""
    with HybridIndex("inspect", models, path=str(folder), tenant_key="tenant") as index:
        for tenant, topics in (("north", {"music", "finance"}), ("south", {"animals", "nature"})):
            index.tenant(tenant).add([Record(i, t, dict(m)) for i, (t, m) in TEXTS.items() if m["topic"] in topics])
        index.tenant("south").add([Record("notes", f"Field notes copied from {SECRET} about volcano ash.",
                                          {"topic": "nature", "source": SECRET})])


def digest(folder: Path) -> dict[str, str]:
    """Every file of the folder (but its lock, which says who holds it) by content; a JSON file
    by its value (Qdrant Edge rewrites a segment's JSON at each close, its keys in any order)."""
    def content(p: Path) -> bytes:
        raw = p.read_bytes()
        return json.dumps(json.loads(raw), sort_keys=True).encode() if p.suffix == ".json" else raw
    return {str(p.relative_to(folder)): hashlib.sha256(content(p)).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".hybridstore.lock"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory, models) -> Path:
    where = tmp_path_factory.mktemp("inspect") / "index"
    build(where, models)
    return where


@pytest.fixture(scope="module")
def opened(folder, models):
    index = HybridIndex("inspect", models, path=str(folder))  # as the CLI opens it: no tenant_key given
    yield index
    index.close()


@pytest.fixture(scope="module")
def client(opened, folder):
    from starlette.testclient import TestClient

    from hybridstore.inspector.answers import Inspector
    from hybridstore.inspector.endpoints import app

    with TestClient(app(Inspector(opened, str(folder))), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def served(tmp_path_factory, models):
    """`hybridstore inspect` running (a subprocess, as a user runs it) on a free loopback port
    over its own index folder: its URL. Stopped with Ctrl-C (SIGINT) at the end."""
    import os
    import signal
    import subprocess
    import sys

    from ..conftest import LATE

    where = tmp_path_factory.mktemp("served") / "index"
    build(where, models)
    proc = subprocess.Popen([sys.executable, "-m", "hybridstore.cli", "--late", LATE, "inspect", "--path", str(where),
                             "--collection", "inspect"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline() if proc.stdout else ""
    if "http://127.0.0.1:" not in line:
        proc.kill()
        pytest.fail(f"hybridstore inspect did not start: {line!r} {proc.communicate()[1]}")
    yield line.split()[2], proc, where
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait()
