"""edge_filters: every node of the filter tree compiled to Qdrant Edge's objects and run on a real
shard; test_parity runs the same trees on qdrant-client's local mode (the engines agree)."""

import datetime as dt

import pytest
from qdrant_client import models as qm

from hybridstore.engine import EdgeEngine
from hybridstore.engine.requests import Count, Create, Write
from hybridstore.qdrant import filter_tree as tree
from hybridstore.qdrant.filters import to_filter
from hybridstore.qdrant.payload import Point, SparseVec, point_id
from hybridstore.qdrant.schema import Schema, VectorField

from ..conftest import scroll_all

SCHEMA = Schema((VectorField("dense", "dense", 2), VectorField("sparse", "sparse", None, modifier="idf")))
PAYLOADS = {
    "a": {"s": "red", "n": 1, "flag": True, "when": "2024-03-05T00:00:00Z", "body": "the quick brown fox",
          "e": None, "items": [{"k": 1, "v": "p"}, {"k": 2, "v": "q"}]},
    "b": {"s": "blue", "n": 3, "flag": False, "when": "2023-11-30T12:00:00Z", "body": "a lazy dog",
          "e": [], "items": [{"k": 1, "v": "q"}, {"k": 2, "v": "p"}]},
    "c": {"s": "red", "n": 4.5, "flag": 1, "when": "2025-01-01T00:00:00Z", "body": "brown bread",
          "e": "full", "items": []},
    "d": {"s": "green", "n": 2.0, "when": "2024-07-01T10:00:00Z", "body": "green fields"},
}
SPARSE = {"a", "c"}  # the points holding the sparse vector
NAMES = {point_id(name): name for name in PAYLOADS}
RED = tree.Match("s", "red")

# (tree, the points it selects), a case per node kind and per rule the compilers keep
CASES = [
    (tree.Filter(must=(RED,)), {"a", "c"}),
    (tree.Filter(must=(tree.Match("flag", True),)), {"a"}),  # a bool matches bools only, not the integer 1
    (tree.Filter(must=(tree.Match("flag", 1),)), {"c"}),
    (tree.Filter(must=(tree.Match("n", 1),)), {"a"}),
    (tree.Filter(must=(tree.MatchAny("s", ("blue", "green")),)), {"b", "d"}),
    (tree.Filter(must=(tree.MatchAny("n", (1, 3)),)), {"a", "b"}),
    (tree.Filter(must=(tree.MatchExcept("s", ("red",)),)), {"b", "d"}),
    (tree.Filter(must=(tree.MatchText("body", "brown"),)), {"a", "c"}),
    (tree.Filter(must=(tree.Range("n", gte=2, lt=4.5),)), {"b", "d"}),  # 2.0 stored as a float
    (tree.Filter(must=(tree.Range("n", gt=1, lte=4.5),)), {"b", "c", "d"}),
    (tree.Filter(must=(tree.DatetimeRange("when", gte=dt.datetime(2024, 1, 1)),)), {"a", "c", "d"}),
    (tree.Filter(must=(tree.DatetimeRange("when", lt=dt.datetime(2024, 3, 5, 0, 0, 1, tzinfo=dt.UTC)),)),
     {"a", "b"}),
    (tree.Filter(must=(tree.DatetimeRange("when", gt=dt.date(2024, 7, 1), lte=dt.date(2025, 1, 1)),)), {"d", "c"}),
    (tree.Filter(must=(tree.IsEmpty("e"),)), {"a", "b", "d"}),  # null, [] and missing
    (tree.Filter(must=(tree.IsNull("e"),)), {"a"}),
    (tree.Filter(must=(tree.HasId((point_id("a"), point_id("d"))),)), {"a", "d"}),
    (tree.Filter(must=(tree.HasVector("sparse"),)), SPARSE),
    (tree.Filter(must_not=(tree.HasVector("sparse"),)), {"b", "d"}),
    # one object of the array holds both (flat paths would also take b, whose objects split them)
    (tree.Filter(must=(tree.Nested("items", tree.Filter(must=(tree.Match("k", 1), tree.Match("v", "p")))),)), {"a"}),
    (tree.Filter(must=(tree.Match("items[].k", 1), tree.Match("items[].v", "p"))), {"a", "b"}),
    (tree.Filter(should=(RED, tree.Match("s", "blue"))), {"a", "b", "c"}),
    (tree.Filter(must=(RED,), must_not=(tree.Match("n", 1),)), {"c"}),
    (tree.Filter(must=(tree.Filter(should=(tree.Match("n", 3), tree.Range("n", gte=4)),),), must_not=(tree.IsEmpty("e"),)), {"c"}),
    (tree.Filter(min_should=tree.MinShould((RED, tree.Match("s", "green"), tree.Range("n", lte=2)), 2)), {"a", "d"}),
    (tree.Filter(must=(tree.IsEmpty("e"),), must_not=(tree.IsEmpty("e"),)), set()),  # nothing: the empty $in
    (tree.Filter(), set(PAYLOADS)),
    # a raw FieldCondition's is_empty / is_null flags, read as the nodes (false: must_not)
    (to_filter(qm.Filter(must=[qm.FieldCondition(key="e", is_empty=False)]), ""), {"c"}),
    (to_filter(qm.Filter(must=[qm.FieldCondition(key="e", is_null=False)]), ""), {"b", "c", "d"}),
]


def fill(engine):
    engine.run("c", Create(SCHEMA))
    engine.run("c", Write([
        Point(point_id(name), {"dense": [1.0, i / 4], **({"sparse": SparseVec([i], [1.0])} if name in SPARSE else {})},
              payload) for i, (name, payload) in enumerate(PAYLOADS.items())]))
    return engine


@pytest.fixture(scope="module")
def edge():
    engine = fill(EdgeEngine(location=":memory:"))
    yield engine
    engine.close()


def selected(engine, flt):
    return {NAMES[f.id] for f in scroll_all(engine, "c", flt)}


@pytest.mark.parametrize("flt, expected", CASES)
def test_each_node_selects_on_a_real_shard(edge, flt, expected):
    assert selected(edge, flt) == expected
    assert edge.run("c", Count(flt)) == len(expected)

