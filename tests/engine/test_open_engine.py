"""`engine` (the package's `open_engine`, `embedded_kind`, `held_engine`): which engine a
`Settings` opens: yours as given, qdrant-client for url=/client=, else the embedded engine asked,
else the one that wrote the folder, else $HYBRIDSTORE_ENGINE, else Qdrant Edge; and the live
engine of this process that already holds a folder. No model."""

from __future__ import annotations

import pytest
from qdrant_client import QdrantClient

from hybridstore.engine import ClientEngine, EdgeEngine, embedded_kind, held_engine, open_engine
from hybridstore.engine.requests import Create
from hybridstore.errors import ConfigurationError
from hybridstore.qdrant.schema import Schema, VectorField
from hybridstore.settings import Settings

SCHEMA = Schema((VectorField("dense", "dense", 2),))


def written(folder, kind: str) -> None:
    engine = EdgeEngine(path=str(folder)) if kind == "edge" else ClientEngine(path=str(folder))
    engine.run("c", Create(SCHEMA))
    engine.close()


def test_an_engine_given_is_the_engine_used():
    mine = ClientEngine()
    assert open_engine(Settings(engine=mine)) is mine
    mine.close()


def test_url_and_client_refuse_an_embedded_engine_name():
    with pytest.raises(ConfigurationError, match=r"engine='edge' is for embedded storage; url= and client= "
                                                 "use qdrant-client"):
        open_engine(Settings(url="http://127.0.0.1:9", engine="edge"))
    client = QdrantClient(location=":memory:")
    engine = open_engine(Settings(client=client, engine="client"))
    assert isinstance(engine, ClientEngine) and engine.changes("c") is None  # writers it cannot see
    client.close()


def test_an_unknown_engine_name_is_refused_naming_the_known_ones():
    with pytest.raises(ConfigurationError, match=r"engine 'rocks' is unknown; use one of edge, local or an "
                                                 "Engine instance"):
        open_engine(Settings(engine="rocks"))


@pytest.mark.parametrize("env, kind", [(None, "edge"), ("local", "local"), ("edge", "edge")])
def test_new_storage_takes_the_environment_else_edge(monkeypatch, env, kind):
    if env is None:
        monkeypatch.delenv("HYBRIDSTORE_ENGINE", raising=False)
    else:
        monkeypatch.setenv("HYBRIDSTORE_ENGINE", env)
    assert embedded_kind(None, None) == kind
    engine = open_engine(Settings())
    assert engine.describe()["engine"] == kind
    engine.close()


@pytest.mark.parametrize("wrote", ["edge", "local"])
def test_a_folder_opens_with_the_engine_that_wrote_it_whatever_the_default(tmp_path, monkeypatch, wrote):
    written(tmp_path, wrote)
    monkeypatch.setenv("HYBRIDSTORE_ENGINE", "local" if wrote == "edge" else "edge")
    assert embedded_kind(str(tmp_path), None) == wrote
    engine = open_engine(Settings(path=str(tmp_path)))
    assert engine.describe()["engine"] == wrote and engine.describe()["folder_written_by"] == [wrote]
    engine.close()
    other = "local" if wrote == "edge" else "edge"
    assert embedded_kind(str(tmp_path), other) == other  # asked: asked (and refused)
    with pytest.raises(ConfigurationError, match=f"engine='{wrote}'"):
        open_engine(Settings(path=str(tmp_path), engine=other))


def test_held_engine_is_the_engine_of_this_process_on_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRIDSTORE_ENGINE", "edge")
    assert held_engine(Settings(path=str(tmp_path))) is None
    engine = open_engine(Settings(path=str(tmp_path)))
    assert held_engine(Settings(path=str(tmp_path))) is engine
    assert held_engine(Settings(path=str(tmp_path), engine="local")) is None  # another kind
    assert held_engine(Settings()) is None and held_engine(Settings(engine=engine)) is None
    engine.close()
    assert held_engine(Settings(path=str(tmp_path))) is None
