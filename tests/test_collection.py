"""Payload indexes and the optimize policy (Qdrant Edge never indexes by itself)."""

import asyncio

import pytest

from hybridstore import ConfigurationError, HybridIndex, Models, Record
from hybridstore.engine import EdgeEngine


def corpus(n=60):
    return [Record(f"r{i}", f"text number {i} about {'guitars' if i % 2 else 'pianos'}",
                   {"year": 2000 + i % 20, "topic": f"t{i % 3}"}, doc_id=f"d{i % 5}") for i in range(n)]


def test_declared_and_automatic_payload_indexes_on_edge(tmp_path):
    idx = HybridIndex("p", Models(), path=str(tmp_path), engine="edge",
                      payload_indexes={"year": "integer", "topic": "keyword"})
    idx.add(corpus())
    idx.close()
    reopened = HybridIndex("p", Models(), path=str(tmp_path), engine="edge", payload_indexes={"year": "integer"})
    assert reopened.count({"year": {"$gte": 2010}}) == 30  # indexed filters still exact
    schema = reopened.engine.info("p")["payload_schema"]  # edge itself: which payload indexes the shard holds
    assert {k: v["type"] for k, v in schema.items()} == {
        "doc_id": "Keyword", "metadata.year": "Integer", "metadata.topic": "Keyword"}
    reopened.close()


def test_bad_payload_index_kind():
    with pytest.raises(ConfigurationError, match="map metadata keys to one of keyword"):
        HybridIndex("x", Models(), payload_indexes={"year": "number"})


def test_optimize_threshold_and_results_unchanged():
    idx = HybridIndex("opt", Models(), engine=EdgeEngine(location=":memory:"), optimize_threshold=50)
    records = corpus()
    idx.add(records[:40])
    assert idx._col.state.written == 40  # below the threshold: not optimized yet
    before = [h.record.id for h in idx.search("guitars", 10, mode="dense")]
    idx.add(records[40:])
    assert idx._col.state.written == 0  # the threshold was crossed: optimized
    assert [h.record.id for h in idx.search("guitars", 10, mode="dense", filter={"year": {"$lt": 2040}})][:5] \
        == before[:5]
    manual = HybridIndex("manual", Models(), optimize_threshold=None)
    manual.add(records)
    assert manual._col.state.written == 60
    manual.optimize()
    assert manual._col.state.written == 0 and manual.count() == 60


def test_automatic_builds_wait_for_the_collection_to_double_up_to_ten_thresholds():
    """A bulk load builds the graphs O(log n) times, not once per threshold; a large collection
    still builds after ten thresholds of new points."""
    records = corpus(200)
    doubling = HybridIndex("grow", Models(), engine=EdgeEngine(location=":memory:"), optimize_threshold=20)
    doubling.add(records[:60])
    assert doubling._col.state.written == 0  # 60 new points, none before: built
    doubling.add(records[60:110])
    assert doubling._col.state.written == 50  # fewer new points than the 60 built: waits
    doubling.add(records[110:120])
    assert doubling._col.state.written == 0  # as many as before: built
    capped = HybridIndex("cap", Models(), engine=EdgeEngine(location=":memory:"), optimize_threshold=5)
    capped.add(records[:60])
    capped.add(records[60:109])
    assert capped._col.state.written == 49  # under ten thresholds (50) of new points: waits
    capped.add(records[109:110])
    assert capped._col.state.written == 0 and capped.count() == 110


async def test_concurrent_async_callers_are_safe():
    idx = HybridIndex("conc", Models())
    await idx.aadd(corpus(20))

    async def writer(i):
        await idx.aadd([Record(f"w{i}-{j}", f"written by task {i} item {j}", {"task": i}) for j in range(5)])

    async def reader(i):
        hits = await idx.asearch("guitars", 5, filter={"topic": "t1"})
        assert all(h.record.metadata["topic"] == "t1" for h in hits)

    await asyncio.gather(*(writer(i) for i in range(6)), *(reader(i) for i in range(12)))
    assert await idx.acount() == 20 + 30
    assert await idx.acount({"task": 3}) == 5


def test_the_tenant_key_gets_a_tenant_index_on_edge(tmp_path):
    with HybridIndex("t", Models(), path=str(tmp_path), engine="edge", tenant_key="tenant") as idx:
        idx.tenant("acme").add(corpus()[:3])
        schema = idx.engine.info("t")["payload_schema"]
    assert schema["metadata.tenant"] == {"type": "Keyword", "is_tenant": True}
