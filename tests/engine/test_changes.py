"""`engine.changes`: what an embedded engine counts per collection (`Engine.changes`, the
`Changes` request): every change that may leave a point lacking a vector (a write without every
required vector, a merge, a failed write, the collection's vectors or models changed) and
nothing else, so indexes sharing the engine know when to look again. A server or a caller's
client counts nothing (None): writers it cannot see reach the collection. No model."""

from __future__ import annotations

import os

import pytest
from qdrant_client import QdrantClient

from hybridstore.engine import ClientEngine, EdgeEngine
from hybridstore.engine.requests import (
    Changes,
    ChangeVectors,
    Count,
    Create,
    Delete,
    Drop,
    GetSchema,
    SetPayloads,
    SetSignature,
    Write,
)
from hybridstore.errors import EngineError
from hybridstore.qdrant import signature as sig
from hybridstore.qdrant.filters import doc_id_filter
from hybridstore.qdrant.payload import Point, SparseVec, point_id
from hybridstore.qdrant.schema import Schema, VectorField

BM25 = {"source": "fastembed", "kind": "sparse", "model": "Qdrant/bm25", "modifier": "idf"}
ENGINE = os.environ.get("HYBRIDSTORE_ENGINE") or "edge"
SCHEMA = Schema((VectorField("dense", "dense", 2), VectorField("sparse", "sparse", None, modifier="idf")),
                sig.collection_signature({"dense": sig.caller(2), "sparse": BM25}))


def point(rid: str, *names: str) -> Point:
    vectors = {"dense": [1.0, 0.5], "sparse": SparseVec([3], [1.0]), "pic": [0.0, 1.0]}
    return Point(point_id(rid), {n: vectors[n] for n in names}, {"id": rid, "doc_id": "d"})


@pytest.fixture
def engine():
    made = EdgeEngine(location=":memory:") if ENGINE == "edge" else ClientEngine(location=":memory:")
    made.run("c", Create(SCHEMA))
    yield made
    made.close()


def test_complete_writes_and_reads_leave_the_count_still(engine):
    start = engine.changes("c")
    assert start == engine.run("c", Changes()) == 1  # making the collection counted
    engine.run("c", Write([point("a", "dense", "sparse"), point("b", "dense", "sparse")]))
    engine.run("c", SetPayloads([Point(point_id("a"), {}, {"id": "a", "doc_id": "e"})]))
    assert engine.run("c", Count()) == 2 and engine.run("c", GetSchema()) == SCHEMA
    engine.run("c", Delete(doc_id_filter(["e"])))
    assert engine.changes("c") == start and engine.changes("other") == 0


def test_each_change_that_may_leave_a_point_lacking_a_vector_counts_once(engine):
    count = engine.changes("c")
    steps = [
        Write([point("a", "dense", "sparse"), point("b", "dense")]),  # b lacks its sparse vector
        Write([point("a", "dense", "sparse")], merge=True),  # sets vectors of points that may lack others
        ChangeVectors(add=VectorField("pic", "dense", 2)),
        SetSignature({**SCHEMA.signature, "vectors": {**sig.vectors_of(SCHEMA.signature),
                                                      "pic": {"source": "caller", "kind": "image", "dim": 2}}}),
        ChangeVectors(drop="pic"),
        Drop(),
    ]
    for request in steps:
        engine.run("c", request)
        assert engine.changes("c") == count + 1, request
        count += 1
    assert engine.changes("other") == 0  # per collection


async def test_a_failed_write_counts_and_the_async_twin_reads_the_same_count(engine):
    before = engine.changes("c")
    with pytest.raises(EngineError):
        engine.run("c", Write([point("a", "dense", "sparse"), Point(point_id("bad"), {"dense": [1.0, 2.0, 3.0]}, {})]))
    assert engine.changes("c") == before + 1  # part of it may have been written
    assert await engine.arun("c", Changes()) == before + 1
    with pytest.raises(EngineError):
        engine.run("missing", Count())  # a failed read changes nothing
    assert engine.changes("missing") == 0


def test_a_vector_recorded_as_an_image_is_not_required(engine):
    image = {"source": "fastembed", "kind": "image", "model": "clip", "dim": 2}
    engine.run("c", ChangeVectors(add=VectorField("pic", "dense", 2)))
    engine.run("c", SetSignature({**SCHEMA.signature, "vectors": {**sig.vectors_of(SCHEMA.signature), "pic": image}}))
    count = engine.changes("c")
    engine.run("c", Write([point("text", "dense", "sparse")]))  # a record without an image
    assert engine.changes("c") == count
    engine.run("c", Write([point("half", "dense", "pic")]))  # the sparse vector is still required
    assert engine.changes("c") == count + 1


def test_a_callers_client_counts_nothing():
    client = QdrantClient(location=":memory:")
    engine = ClientEngine(client=client)
    engine.run("c", Create(SCHEMA))
    engine.run("c", Write([point("b", "dense")]))
    assert engine.changes("c") is None and engine.run("c", Changes()) is None
    client.close()
