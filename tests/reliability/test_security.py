"""Security: names cannot escape the data folder, the default engine never unpickles, secrets
never show. (API keys against a server: test_remote_faults.py.)"""

from __future__ import annotations

import os
import pickle

import pytest

from hybridstore import ConfigurationError, HybridIndex, Models, Record
from hybridstore.engine import EdgeEngine
from hybridstore.engine.requests import Create
from hybridstore.qdrant.schema import build_schema

BAD_NAMES = ["../escape", "..", ".", "a/../../b", "/etc/passwd", "a/b", "a\\b", "a\x00b", "",
             "-dash-first", "x" * 300, "spaced name", "tab\tname", "new\nline", 7, None]


@pytest.fixture(scope="module")
def models():
    return Models()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_collection_names_cannot_leave_the_data_folder(tmp_path, models, name):
    data = tmp_path / "data"
    data.mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ConfigurationError, match="collection name"):
        HybridIndex(name, models, path=str(data)).add([Record("a", "text")])
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("name", [n for n in BAD_NAMES if isinstance(n, str) and ("/" in n or "." in n
                                                                                   or "\x00" in n or not n)])
def test_the_edge_engine_refuses_them_too(tmp_path, name):
    engine = EdgeEngine(path=str(tmp_path))
    with pytest.raises(ConfigurationError, match="not a plain folder name"):
        engine.run(name, Create(build_schema({"dense": 4}, {})))
    assert os.listdir(tmp_path) == [".hybridstore.lock"]  # the folder's lock, nothing else


@pytest.mark.parametrize("path", ["bad\x00path", 42, b"/tmp/bytes"])
def test_paths_with_nul_bytes_or_odd_types_are_refused(path, models):
    with pytest.raises(ConfigurationError, match="not a usable folder path"):
        HybridIndex("ok", models, path=path)


def test_opening_an_edge_index_never_unpickles(tmp_path, models, monkeypatch):
    with HybridIndex("plain", models, path=str(tmp_path), engine="edge") as idx:
        idx.add([Record("a", "a plain text record", {"k": "v"})])

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    with HybridIndex("plain", models, path=str(tmp_path), engine="edge") as idx:
        assert idx.get(["a"])[0].metadata == {"k": "v"}
        assert idx.search("plain text", 1)[0].record.id == "a"
    assert not any(p.suffix in {".pkl", ".pickle"} for p in tmp_path.rglob("*"))
