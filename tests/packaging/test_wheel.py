"""The built wheel as a user gets it: installed with each framework extra into a clean virtual
environment (from the machine's package index, nothing else), typed (py.typed: mypy checks a
user script against the public API), licensed, and with a README that stands on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ..conftest import PACK, ROOT

USER_SCRIPT = """
from hybridstore import Hit, HybridIndex, Models, Record

index: HybridIndex = HybridIndex("typed", Models(), location=":memory:")
ids: list[str] = index.add([Record("a", "Rice is a grain.", {"kind": "food"})])
hits: list[Hit] = index.search("grain", k=1)
best: float = hits[0].score
"""
README_PICTURE = "](docs/images/inspect.png)"
WRONG_SCRIPT = USER_SCRIPT + 'count: str = index.count()\n'
SMOKE = {
    "langchain": ("from hybridstore.langchain import HybridVectorStore\n"
                  "store = HybridVectorStore('c')\n"
                  "store.add_texts(['Rice is a grain.', 'Volcanoes erupt.'], ids=['a', 'b'])\n"
                  "assert [d.id for d in store.similarity_search('grain', 1)] == ['a']\n"),
    "llama-index": ("from llama_index.core.schema import TextNode\n"
                    "from hybridstore.llama_index import HybridVectorStore\n"
                    "from llama_index.core.vector_stores.types import VectorStoreQuery\n"
                    "store = HybridVectorStore('c')\n"
                    "store.add([TextNode(text='Rice is a grain.', id_='a'), TextNode(text='Volcanoes erupt.', id_='b')])\n"
                    "result = store.query(VectorStoreQuery(query_str='grain', mode='sparse', similarity_top_k=1))\n"
                    "assert result.ids == ['a']\n"),
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    return next(out.glob("hybridstore-*.whl"))


def test_the_wheel_carries_types_license_and_a_readme_that_stands_alone(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "hybridstore/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: Apache-2.0" in metadata
    assert "hybridstore/inspector/static/inspect.js" in names  # the inspector's page ships with it
    # no links that break on an index page, but the README's one picture (issue 31), whose alt
    # text says what it shows where the image cannot load
    assert "../shared" not in metadata and "](" not in metadata.replace(README_PICTURE, "")


@pytest.mark.parametrize("extra", ["langchain", "llama-index"])
def test_installs_with_each_extra_into_a_clean_environment(wheel, extra, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "-q", f"{wheel}[{extra}]"],
                             capture_output=True, text=True, timeout=1200)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {**os.environ, "HYBRIDSTORE_MODELS": str(PACK), "HF_HUB_OFFLINE": "1"}
    for script in (USER_SCRIPT, SMOKE[extra]):
        done = subprocess.run([python, "-c", script], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    (tmp_path / "user.py").write_text(USER_SCRIPT)
    (tmp_path / "wrong.py").write_text(WRONG_SCRIPT)
    mypy = [sys.executable, "-m", "mypy", "--python-executable", python, "--no-incremental",
            "--follow-imports=silent"]
    ok = subprocess.run([*mypy, "user.py"], capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout[-3000:]
    wrong = subprocess.run([*mypy, "wrong.py"], capture_output=True, text=True, cwd=tmp_path)
    assert wrong.returncode == 1 and 'incompatible types in assignment (expression has type "int"' \
        in wrong.stdout.lower(), wrong.stdout[-3000:]
