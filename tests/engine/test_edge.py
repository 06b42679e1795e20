"""Qdrant Edge itself: an in-memory engine cleans up after itself, a closed one refuses work,
scroll pages, engine errors, optimize, and dropping a collection removes its shard folder."""

import os

import pytest
from qdrant_client import models as qm

from hybridstore import EngineError, FilterError, HybridIndex, Record
from hybridstore.engine import EdgeEngine
from hybridstore.engine.requests import Count, Create, GetSchema, Optimize, Write
from hybridstore.qdrant.filter_tree import Filter, Range
from hybridstore.qdrant.filters import to_filter
from hybridstore.qdrant.payload import Point
from hybridstore.qdrant.schema import Schema, VectorField

from ..conftest import scroll_all


def ids(hits):
    return [h.record.id for h in hits]





def test_memory_engine_cleans_up_and_refuses_use_after_close():
    from hybridstore.qdrant.payload import point_id
    schema = Schema((VectorField("dense", "dense", 2),))
    for _ in range(10):  # a shard still closing in the worker raced the removal about half the time
        engine = EdgeEngine(location=":memory:")
        engine.run("c", Create(schema))
        engine.run("c", Write([Point(point_id(str(i)), {"dense": [1.0, i / 50]}, {}) for i in range(50)]))
        assert engine.run("c", GetSchema()) == schema and os.path.isdir(engine.root)
        engine.close()
        assert not os.path.exists(engine.root)
    with pytest.raises(EngineError, match="closed"):
        engine.run("c", Count())


def test_close_after_an_interrupted_request_waits_for_the_worker_or_ends_it(tmp_path):
    """A request whose reply was never read (Ctrl-C while waiting): close reads that reply
    before its own, so the shards are closed when it returns; a private folder's worker is
    ended instead (nothing there is kept), before its folder is removed."""
    from hybridstore.qdrant.payload import point_id
    schema = Schema((VectorField("dense", "dense", 2),))
    points = [Point(point_id(str(i)), {"dense": [1.0, i / 50]}, {}) for i in range(50)]
    for path in [None] * 5 + [str(tmp_path / "db")] * 5:
        engine = EdgeEngine(path) if path else EdgeEngine(location=":memory:")
        if path is None or not os.path.isdir(os.path.join(path, "c")):
            engine.run("c", Create(schema))
        engine.run("c", Write(points))
        engine._shards._conn.send(("run", "c", Optimize()))  # as a caller interrupted waiting for it
        engine._shards._pending = True
        engine.close()
        if path is None:
            assert not os.path.exists(engine.root)
        else:  # open again at once: the shard's lock was let go
            again = EdgeEngine(path)
            assert again.run("c", Count()) == 50
            again.close()


def test_engine_level_scroll_pages_errors_and_optimize():
    engine = EdgeEngine()
    schema = Schema((VectorField("dense", "dense", 2), VectorField("sparse", "sparse", None, modifier="idf")))
    engine.run("c", Create(schema))
    with pytest.raises(EngineError, match="already exists"):
        engine.run("c", Create(schema))
    from hybridstore.qdrant.payload import SparseVec, point_id
    points = [Point(point_id(str(i)), {"dense": [1.0, i / 600], "sparse": SparseVec([i % 7], [1.0])},
                    {"i": i}) for i in range(600)]
    engine.run("c", Write(points))
    assert len(scroll_all(engine, "c")) == 600  # more than one page
    assert len(scroll_all(engine, "c", None, 300)) == 300
    assert all(isinstance(f.id, str) for f in scroll_all(engine, "c", None, 5))
    flt = Filter(must=(Range("i", lt=10),))
    assert engine.run("c", Count(flt)) == 10 and engine.run("c", Count()) == 600
    with pytest.raises(EngineError, match="dimension"):
        engine.run("c", Write([Point(point_id("bad"), {"dense": [1.0, 2.0, 3.0]}, {})]))
    with pytest.raises(EngineError, match="does not exist"):
        engine.run("nope", Count())
    geo = qm.Filter(must=[qm.FieldCondition(key="loc", geo_radius=qm.GeoRadius(
        center=qm.GeoPoint(lon=0, lat=0), radius=-1.0))])
    with pytest.raises(FilterError, match="meters >= 0"):  # malformed: refused where a raw filter is read
        engine.run("c", Count(to_filter(geo)))
    assert engine.run("c", Optimize()) is None
    assert engine.run("c", Count()) == 600
    engine.close()


def test_drop_removes_the_shard_folder(models, tmp_path):
    with HybridIndex("gone", models, engine=EdgeEngine(path=str(tmp_path))) as idx:
        idx.add([Record("a", "alpha")])
        assert (tmp_path / "gone").is_dir()
        idx.drop()
        assert not (tmp_path / "gone").exists()


def test_optimize_keeps_results(models, records):
    index = HybridIndex("test", models, engine=EdgeEngine(location=":memory:"))
    index.add(records)
    before = ids(index.search("who plays the guitar", 8, mode="hybrid", rerank=True))
    index.optimize()
    assert ids(index.search("who plays the guitar", 8, mode="hybrid", rerank=True)) == before
