"""`engine.client`: the engine over qdrant-client in local mode (in memory and on a folder) and
over a caller's own client: what it refuses (bad retry settings, the other engine's folder, a
folder a qdrant-client of its own holds), what local mode skips (payload indexes, optimize),
how it describes itself, and that it closes what it opened and only that. Servers: see
tests/reliability/test_remote_faults.py (retries against a fake server). No model."""

from __future__ import annotations

import re
import warnings

import pytest
from qdrant_client import QdrantClient

from hybridstore.engine import ClientEngine, EdgeEngine
from hybridstore.engine.requests import Count, Create, GetSchema, IndexPayload, Optimize, Write
from hybridstore.errors import ConfigurationError, EngineError, StorageLockedError
from hybridstore.qdrant.payload import Point, point_id
from hybridstore.qdrant.schema import Schema, VectorField

SCHEMA = Schema((VectorField("dense", "dense", 2),))


def add_one(engine: ClientEngine, collection: str = "c") -> None:
    engine.run(collection, Create(SCHEMA))
    engine.run(collection, Write([Point(point_id("a"), {"dense": [1.0, 0.0]}, {"id": "a"})]))


@pytest.mark.parametrize("options", [{"retries": -1}, {"backoff": -0.5}])
def test_negative_retry_settings_are_refused(options):
    with pytest.raises(ConfigurationError, match="retries and backoff must be >= 0"):
        ClientEngine(**options)


def test_local_mode_in_memory_describes_itself_and_runs_requests():
    engine = ClientEngine()
    assert engine.local and engine.describe() == {"engine": "local", "location": ":memory:"}
    assert repr(engine) == "ClientEngine(local=True)"
    assert engine.run("c", GetSchema()) is None
    add_one(engine)
    assert engine.run("c", GetSchema()) == SCHEMA and engine.run("c", Count()) == 1
    engine.close()


async def test_the_async_twin_runs_local_mode_in_a_thread():
    engine = ClientEngine()
    await engine.arun("c", Create(SCHEMA))
    assert await engine.arun("c", GetSchema()) == SCHEMA
    assert await engine.arun("c", Count()) == 0
    await engine.aclose()


def test_local_mode_skips_what_it_does_not_have_without_a_warning():
    engine = ClientEngine()
    add_one(engine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # local mode warns on a payload index: none is sent
        assert engine.run("c", IndexPayload("metadata.year", "integer")) is None
        assert engine.run("c", Optimize()) is None
    assert engine.run("c", Count()) == 1
    engine.close()


def test_a_failed_local_request_is_an_engine_error_naming_the_call():
    engine = ClientEngine()
    add_one(engine)
    with pytest.raises(EngineError, match=r"qdrant \w+ failed"):
        engine.run("c", Create(SCHEMA))  # it exists
    assert engine.run("c", Count()) == 1  # nothing lost
    engine.close()


def test_a_folder_describes_itself_and_reopens_with_its_points(tmp_path):
    engine = ClientEngine(path=str(tmp_path))
    add_one(engine)
    assert engine.describe() == {"engine": "local", "path": str(tmp_path), "folder_written_by": ["local"]}
    engine.close()
    again = ClientEngine(path=str(tmp_path))
    assert again.run("c", Count()) == 1
    again.close()


def test_an_edge_folder_is_refused_naming_the_engine_that_wrote_it(tmp_path):
    edge = EdgeEngine(path=str(tmp_path))
    edge.run("c", Create(SCHEMA))
    edge.close()
    with pytest.raises(ConfigurationError, match=r"holds Qdrant Edge collections.*open it with engine='edge'"):
        ClientEngine(path=str(tmp_path))


def test_a_folder_a_qdrant_client_of_its_own_holds_is_refused_and_free_once_closed(tmp_path):
    theirs = QdrantClient(path=str(tmp_path))
    with pytest.raises(StorageLockedError, match=rf"the index at {re.escape(str(tmp_path))} is already open in another process "
                                                 r"\(a qdrant-client of its own\).*url="):
        ClientEngine(path=str(tmp_path))
    theirs.close()
    engine = ClientEngine(path=str(tmp_path))  # the failed open let go of the folder's lock
    add_one(engine)
    assert engine.run("c", Count()) == 1
    engine.close()


def test_a_callers_client_is_used_and_left_open():
    client = QdrantClient(location=":memory:")
    engine = ClientEngine(client=client)
    assert engine.local and engine.describe() == {"engine": "local", "location": ":memory:"}
    add_one(engine)
    engine.close()
    assert client.count("c").count == 1  # still open: it is the caller's to close
    client.close()
