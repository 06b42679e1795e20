"""The two embedded engines agree: the same records in Qdrant Edge and in qdrant-client's local
mode, the same searches (every mode, fusion, MMR, thresholds, filters), the same rankings
(exact search on 8 points). The rest of the suite runs once per engine (`make test`)."""

import pytest
from qdrant_client import models as qm

from hybridstore import HybridIndex, Record
from hybridstore.engine import EdgeEngine
from hybridstore.engine.client import ClientEngine
from hybridstore.engine.requests import Count

from ..conftest import FILTER_CASES, TEXTS
from .test_edge_filters import CASES as TREE_CASES
from .test_edge_filters import fill, selected


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
    client = HybridIndex("test", models, engine="local")
    edge.add(corpus())
    client.add(corpus())
    yield edge, client
    edge.close()
    client.close()


@pytest.mark.parametrize("mode", ["dense", "sparse", "hybrid"])
@pytest.mark.parametrize("rerank", [False, True])
def test_every_mode_ranks_alike(pair, mode, rerank):
    edge, client = pair
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


@pytest.mark.parametrize("flt, expected", FILTER_CASES)
def test_filters_rank_alike(pair, flt, expected):
    edge, client = pair
    for mode, rerank in (("dense", False), ("sparse", False), ("hybrid", True)):
        same_ranking(edge.search("music finance animals nature", 10, mode=mode, rerank=rerank, filter=flt),
                     client.search("music finance animals nature", 10, mode=mode, rerank=rerank, filter=flt))
    assert edge.count(flt) == client.count(flt) == len(expected)


def test_boolean_and_date_filters(models):
    """edge 0.9 compares a plain Python bool as the integer 1; the engine works around it."""
    more = [Record("on", "A flagged note about boats.", {"flag": True, "when": "2024-03-05"}),
            Record("off", "An unflagged note about trains.", {"flag": False, "when": "2023-11-30"}),
            Record("one", "A note whose flag is the number one.", {"flag": 1, "when": "2024-07-01T10:00:00"}),
            Record("none", "A note without any flag.", {})]
    edge = HybridIndex("flags", models, engine=EdgeEngine())
    client = HybridIndex("flags", models, engine="local")
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


@pytest.fixture(scope="module")
def engines():
    """The filter trees' points (test_edge_filters) in both engines, with no models."""
    edge, local = fill(EdgeEngine(location=":memory:")), fill(ClientEngine())
    yield edge, local
    edge.close()
    local.close()


@pytest.mark.parametrize("flt, expected", TREE_CASES)
def test_filter_trees_select_alike(engines, flt, expected):
    edge, local = engines
    assert selected(edge, flt) == selected(local, flt) == expected
    assert edge.run("c", Count(flt)) == local.run("c", Count(flt)) == len(expected)
