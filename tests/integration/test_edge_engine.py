"""HybridIndex on the qdrant-edge engine with the real offline models, checked against the
default qdrant-client engine on the same records (exact search on 8 points must agree)."""

import asyncio
import os

import pytest
from qdrant_client import models as qm

from hybridstore import (
    CollectionNotFoundError,
    EngineError,
    FilterError,
    HybridIndex,
    InvalidInputError,
    Models,
    Record,
    SchemaMismatchError,
    StorageLockedError,
)
from hybridstore.qdrant.payload import Point
from hybridstore.qdrant.schema import Schema, VectorField

from ..conftest import TEXTS

pytest.importorskip("qdrant_edge")
from hybridstore.engine import EdgeEngine


def ids(hits):
    return [h.record.id for h in hits]


def same_ranking(got, want):
    """Same scores in the same order; ids may differ only in order within a tie (RRF often
    gives two points the same score, and each engine breaks ties its own way)."""
    assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=1e-4, abs=1e-5)
    def canonical(hits):
        return [h.record.id for h in sorted(hits, key=lambda h: (-round(h.score, 4), h.record.id))]

    assert canonical(got) == canonical(want)


def corpus():
    return [Record(rid, text, dict(meta), doc_id=f"doc-{meta['topic']}") for rid, (text, meta) in TEXTS.items()]


@pytest.fixture(scope="module")
def pair(models):
    """Read-only: the same records in an edge index and in a qdrant-client index."""
    edge = HybridIndex("test", models, engine=EdgeEngine(location=":memory:"))
    client = HybridIndex("test", models, location=":memory:")
    edge.add(corpus())
    client.add(corpus())
    yield edge, client
    edge.close()
    client.close()


@pytest.fixture
def index(models, records):
    """A fresh edge index for tests that write."""
    idx = HybridIndex("test", models, engine=EdgeEngine(location=":memory:"))
    idx.add(records)
    yield idx
    idx.close()


@pytest.mark.parametrize("mode", ["dense", "sparse", "hybrid"])
@pytest.mark.parametrize("rerank", [False, True])
def test_every_mode_finds_the_relevant_texts(pair, mode, rerank):
    edge, client = pair
    hits = edge.search("who plays the guitar", 3, mode=mode, rerank=rerank)
    assert set(ids(hits)[:2]) == {"guitar-1", "guitar-2"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    same_ranking(edge.search("who plays the guitar", 8, mode=mode, rerank=rerank),
                 client.search("who plays the guitar", 8, mode=mode, rerank=rerank))


@pytest.mark.parametrize("options", [
    {"mode": "dense", "rerank": False}, {"mode": "sparse", "rerank": False},
    {"mode": "hybrid", "rerank": False}, {"mode": "hybrid", "rerank": True},
    {"mode": "dense", "rerank": True}, {"mode": "sparse", "rerank": True},
    {"mode": "hybrid", "rerank": False, "fusion": "dbsf"},
    {"mode": "hybrid", "rerank": False, "weights": (1.0, 0.3)},
    {"mode": "hybrid", "rerank": False, "rrf_k": 60},
    {"mode": "hybrid", "rerank": False, "rrf_k": 5, "weights": (0.5, 2.0)},
    {"mode": "hybrid", "rerank": False, "dense_limit": 2, "sparse_limit": 3},
    {"mode": "dense", "mmr": 0.3, "rerank": False},
    {"mode": "hybrid", "mmr": 0.5, "rerank": False, "fetch_k": 6},
    {"mode": "dense", "rerank": False, "score_threshold": 0.2},
])
@pytest.mark.parametrize("text", ["guitar on stage", "central bank interest rates", "animals at night"])
def test_agrees_with_the_client_engine(pair, options, text):
    edge, client = pair
    same_ranking(edge.search(text, 8, **options), client.search(text, 8, **options))


def test_default_pipeline_is_hybrid_with_rerank(pair):
    edge, _ = pair
    default = edge.search("central bank interest", 3)
    explicit = edge.search("central bank interest", 3, mode="hybrid", rerank=True)
    assert ids(default) == ids(explicit) and "rates" in ids(default)


def test_hits_carry_exactly_what_was_stored(pair):
    hit = pair[0].search("volcano ash", 1)[0]
    assert hit.record == next(r for r in corpus() if r.id == "volcano")
    assert isinstance(hit.record.id, str) and 0.0 <= hit.relevance <= 1.0


def test_top_k_is_honoured(pair):
    edge, _ = pair
    assert len(edge.search("music", 5, mode="dense")) == 5
    assert len(edge.search("music", 50, mode="dense")) == 8


def test_fusion_options(pair):
    edge, _ = pair
    dense_heavy = edge.search("bank report", 8, mode="hybrid", rerank=False, weights=(1.0, 0.0))
    dense_only = edge.search("bank report", 8, mode="dense", rerank=False)
    assert ids(dense_heavy)[:3] == ids(dense_only)[:3]
    dbsf = edge.search("bank report", 3, mode="hybrid", rerank=False, fusion="dbsf")
    assert ids(dbsf)[0] in {"stocks", "rates"}
    rrf_k = edge.search("bank report", 3, mode="hybrid", rerank=False, rrf_k=60)
    assert ids(rrf_k)[0] in {"stocks", "rates"}
    assert rrf_k[0].score <= 2 / 60 + 1e-6  # k=60 reached edge: at most 1/60 per source


def test_mmr_lambda_one_is_pure_relevance(pair):
    edge, _ = pair
    relevance = edge.search("guitar music", 4, mode="dense", rerank=False)
    assert ids(edge.search("guitar music", 4, mmr=1.0, rerank=False)) == ids(relevance)
    diverse = edge.search("guitar music", 4, mmr=0.0, rerank=False, fetch_k=8)
    assert ids(diverse)[0] == ids(relevance)[0] and ids(diverse) != ids(relevance)


def test_score_threshold(pair):
    hits = pair[0].search("guitar", 8, mode="dense", rerank=False, score_threshold=0.3)
    assert hits and all(h.score >= 0.3 for h in hits) and len(hits) < 8


@pytest.mark.parametrize("flt, expected", [
    ({"topic": "music"}, {"guitar-1", "guitar-2", "piano"}),
    ({"topic": {"$ne": "music"}}, {"stocks", "rates", "cats", "dogs", "volcano"}),
    ({"year": {"$gte": 2021, "$lt": 2024}}, {"guitar-2", "piano", "rates", "volcano"}),
    ({"year": {"$gt": 2023}}, {"dogs"}),
    ({"year": {"$lte": 2018}}, {"cats"}),
    ({"topic": {"$in": ["animals", "nature"]}}, {"cats", "dogs", "volcano"}),
    ({"topic": {"$nin": ["music", "finance", "animals"]}}, {"volcano"}),
    ({"tags": "guitar"}, {"guitar-1", "guitar-2"}),
    ({"tags": {"$contains": "bank"}}, {"rates"}),
    ({"tags": {"$all": ["guitar", "stage"]}}, {"guitar-2"}),
    ({"rating": 4.5}, {"dogs"}),
    ({"author.name": "Ana"}, {"volcano"}),
    ({"author": {"$exists": True}}, {"volcano"}),
    ({"tags": {"$is_empty": True}}, {"cats", "volcano"}),
    ({"$or": [{"year": 2018}, {"topic": "finance"}]}, {"cats", "stocks", "rates"}),
    ({"$and": [{"topic": "music"}, {"$not": {"year": 2019}}]}, {"guitar-2", "piano"}),
    (qm.Filter(must=[qm.FieldCondition(key="metadata.topic", match=qm.MatchValue(value="finance"))]),
     {"stocks", "rates"}),
])
def test_filters_apply_to_search_and_count(pair, flt, expected):
    edge, client = pair
    for mode, rerank in (("dense", False), ("sparse", False), ("hybrid", True)):
        hits = edge.search("music finance animals nature", 10, mode=mode, rerank=rerank, filter=flt)
        assert set(ids(hits)) <= expected
        same_ranking(hits, client.search("music finance animals nature", 10, mode=mode,
                                         rerank=rerank, filter=flt))
    assert set(ids(edge.search("x", 10, mode="dense", filter=flt, rerank=False))) == expected
    assert edge.count(flt) == len(expected)
    assert {r.id for r in edge.get(filter=flt)} == expected


def test_boolean_and_date_filters(models):
    """edge 0.9 compares a plain Python bool as the integer 1; the engine works around it."""
    more = [Record("on", "A flagged note about boats.", {"flag": True, "when": "2024-03-05"}),
            Record("off", "An unflagged note about trains.", {"flag": False, "when": "2023-11-30"}),
            Record("one", "A note whose flag is the number one.", {"flag": 1, "when": "2024-07-01T10:00:00"}),
            Record("none", "A note without any flag.", {})]
    edge = HybridIndex("flags", models, engine=EdgeEngine())
    client = HybridIndex("flags", models)
    edge.add(more)
    client.add(more)
    cases = [
        ({"flag": True}, {"on"}),
        ({"flag": False}, {"off"}),
        ({"flag": 1}, {"one"}),
        ({"flag": {"$ne": True}}, {"off", "one", "none"}),
        ({"$or": [{"flag": True}, {"flag": False}]}, {"on", "off"}),
        (qm.Filter(must=[qm.FieldCondition(key="metadata.flag", match=qm.MatchValue(value=True))]), {"on"}),
        ({"when": {"$gte": "2024-01-01"}}, {"on", "one"}),
        ({"when": {"$lt": "2024-03-05T00:00:01Z"}}, {"on", "off"}),
    ]
    for flt, expected in cases:
        assert edge.count(flt) == client.count(flt) == len(expected), flt
        hits = edge.search("note", 10, mode="dense", rerank=False, filter=flt)
        assert set(ids(hits)) == expected, flt
        same_ranking(hits, client.search("note", 10, mode="dense", rerank=False, filter=flt))
    edge.close()
    client.close()


def test_text_match_filter(index):
    index.add([Record("note-1", "first note", {"note": "the quarterly bank report was late"}),
               Record("note-2", "second note", {"note": "a river bank in spring"}),
               Record("note-3", "third note", {"note": "nothing to see"})])
    hits = index.search("note", 10, mode="dense", rerank=False, filter={"note": {"$text": "bank"}})
    assert set(ids(hits)) == {"note-1", "note-2"}
    assert index.count({"note": {"$text": "quarterly bank"}}) == 1


def test_search_restricted_to_ids_and_documents(pair):
    edge, _ = pair
    assert set(ids(edge.search("music", 8, ids=["cats", "piano", "missing"]))) == {"cats", "piano"}
    hits = edge.search("music", 8, doc_id=["doc-animals", "doc-nature"], mode="dense")
    assert set(ids(hits)) == {"cats", "dogs", "volcano"}
    hits = edge.search("music", 8, doc_id="doc-music", filter={"year": {"$gt": 2020}})
    assert set(ids(hits)) == {"guitar-2", "piano"}


def test_get_keeps_order_and_skips_missing(pair):
    got = pair[0].get(["dogs", "nope", "cats"])
    assert [r.id for r in got] == ["dogs", "cats"]
    assert got[0] == next(r for r in corpus() if r.id == "dogs")


def test_get_by_filter_doc_id_and_limit(pair):
    edge, _ = pair
    assert {r.id for r in edge.get(filter={"topic": "finance"})} == {"stocks", "rates"}
    assert {r.id for r in edge.get(doc_id="doc-animals")} == {"cats", "dogs"}
    assert len(edge.get(limit=3)) == 3 and len(edge.get()) == 8
    assert [r.id for r in edge.get(["dogs", "cats"], filter={"year": {"$gt": 2020}})] == ["dogs"]
    assert edge.get([]) == []


def test_re_adding_an_id_overwrites(index):
    index.add([Record("cats", "Cats are now about quantum physics.", {"topic": "physics"})])
    assert index.count() == 8
    assert index.get(["cats"])[0].metadata == {"topic": "physics"}
    assert ids(index.search("quantum physics", 1))[0] == "cats"


def test_delete_by_ids_filter_and_doc_id(index):
    index.delete(["cats", "not-there"])
    assert index.count() == 7 and index.get(["cats"]) == []
    index.delete(filter={"year": {"$gte": 2023}})
    assert {r.id for r in index.get(["piano", "dogs", "volcano"])} == {"volcano"}
    index.delete(doc_id="doc-finance")
    assert index.count() == 3
    index.delete(["guitar-1", "guitar-2"], doc_id="doc-nature")  # AND: nothing matches both
    assert index.count() == 3
    with pytest.raises(InvalidInputError, match="needs ids=, filter= or doc_id="):
        index.delete()


def test_drop_and_missing_collection(models, tmp_path):
    engine = EdgeEngine(path=str(tmp_path))
    idx = HybridIndex("gone", models, engine=engine)
    with pytest.raises(CollectionNotFoundError, match="'gone' does not exist"):
        idx.search("x")
    assert idx.count() == 0 and idx.get(["a"]) == []
    idx.delete(["a"])
    idx.add([Record("a", "alpha")])
    assert idx.count() == 1 and (tmp_path / "gone").is_dir()
    idx.drop()
    assert idx.count() == 0 and not (tmp_path / "gone").exists()
    with pytest.raises(CollectionNotFoundError):
        idx.search("alpha")
    idx.add([Record("b", "beta")])  # a dropped collection can be created again
    assert [r.id for r in idx.get()] == ["b"]
    idx.close()


def test_on_disk_index_survives_reopen_and_is_locked(tmp_path, records):
    idx = HybridIndex("disk", Models(), engine=EdgeEngine(path=str(tmp_path)))
    idx.add(records)
    second = HybridIndex("disk", Models(), engine=EdgeEngine(path=str(tmp_path)))
    with pytest.raises(StorageLockedError, match=str(tmp_path)) as err:
        second.count()
    assert "close that one first" in str(err.value)
    second.close()
    idx.close()
    with HybridIndex("disk", Models(), engine=EdgeEngine(path=str(tmp_path))) as reopened:
        assert reopened.count() == 8
        assert reopened.get(["volcano"])[0] == next(r for r in records if r.id == "volcano")
        assert ids(reopened.search("who plays the guitar", 2))[0].startswith("guitar")
    late = HybridIndex("disk", Models(late_interaction="colbert-ir/colbertv2.0"),
                       engine=EdgeEngine(path=str(tmp_path)))
    with late, pytest.raises(SchemaMismatchError, match="'late'.*is missing"):
        late.search("guitar")  # the schema was read back from disk


def test_memory_engine_cleans_up_and_refuses_use_after_close():
    engine = EdgeEngine(location=":memory:")
    schema = Schema((VectorField("dense", "dense", 2),))
    engine.create("c", schema)
    assert engine.schema("c") == schema and os.path.isdir(engine.root)
    engine.close()
    assert not os.path.exists(engine.root)
    with pytest.raises(EngineError, match="closed"):
        engine.count("c", None)


def test_engine_level_scroll_pages_errors_and_optimize():
    engine = EdgeEngine()
    schema = Schema((VectorField("dense", "dense", 2), VectorField("sparse", "sparse", None, modifier="idf")))
    engine.create("c", schema)
    with pytest.raises(EngineError, match="already exists"):
        engine.create("c", schema)
    from hybridstore.qdrant.payload import SparseVec, point_id
    points = [Point(point_id(str(i)), {"dense": [1.0, i / 600], "sparse": SparseVec([i % 7], [1.0])},
                    {"i": i}) for i in range(600)]
    engine.upsert("c", points)
    assert len(engine.scroll("c", None, None)) == 600  # more than one page
    assert len(engine.scroll("c", None, 300)) == 300
    assert all(isinstance(f.id, str) for f in engine.scroll("c", None, 5))
    flt = qm.Filter(must=[qm.FieldCondition(key="i", range=qm.Range(lt=10))])
    assert engine.count("c", flt) == 10 and engine.count("c", None) == 600
    with pytest.raises(EngineError, match="dimension"):
        engine.upsert("c", [Point(point_id("bad"), {"dense": [1.0, 2.0, 3.0]}, {})])
    with pytest.raises(EngineError, match="does not exist"):
        engine.count("nope", None)
    geo = qm.Filter(must=[qm.FieldCondition(key="loc", geo_radius=qm.GeoRadius(
        center=qm.GeoPoint(lon=0, lat=0), radius=1.0))])
    with pytest.raises(FilterError, match="geo"):
        engine.count("c", geo)
    assert isinstance(engine.optimize("c"), bool)
    assert engine.count("c", None) == 600
    engine.close()


def test_optimize_keeps_results(index):
    before = ids(index.search("who plays the guitar", 8, mode="hybrid", rerank=True))
    index.engine.optimize("test")
    assert ids(index.search("who plays the guitar", 8, mode="hybrid", rerank=True)) == before


async def test_async_twins(models, records):
    idx = HybridIndex("async", models, engine=EdgeEngine())
    assert await idx.aadd(records) == [r.id for r in records]
    assert await idx.acount() == 8
    hits = await idx.asearch("guitar on stage", 2)
    assert set(ids(hits)) == {"guitar-1", "guitar-2"}
    assert ids(hits) == ids(idx.search("guitar on stage", 2))
    assert [r.id for r in await idx.aget(["piano", "x"])] == ["piano"]
    await idx.adelete(doc_id="doc-music")
    assert await idx.acount() == 5
    results = await asyncio.gather(*(idx.asearch(q, 1) for q in ("cats", "volcano", "bank")))
    assert [ids(r)[0] for r in results][:2] == ["cats", "volcano"]
    assert ids(results[2])[0] in {"stocks", "rates"}
    await idx.adrop()
    assert await idx.acount() == 0
    idx.close()
