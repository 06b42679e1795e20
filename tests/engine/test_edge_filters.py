"""edge_filters: every node of the filter tree compiled to Qdrant Edge's objects and run on a real
shard; test_parity runs the same trees on qdrant-client's local mode (the engines agree)."""

import datetime as dt

import pytest

from hybridstore.engine import EdgeEngine
from hybridstore.engine.requests import Count, Create, Write
from hybridstore.qdrant.filter_tree import (
    DatetimeRange,
    Filter,
    HasId,
    HasVector,
    IsEmpty,
    IsNull,
    Match,
    MatchAny,
    MatchExcept,
    MatchText,
    MinShould,
    Nested,
    Range,
)
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
RED = Match("s", "red")

# (tree, the points it selects), a case per node kind and per rule the compilers keep
CASES = [
    (Filter(must=(RED,)), {"a", "c"}),
    (Filter(must=(Match("flag", True),)), {"a"}),  # a bool matches bools only, not the integer 1
    (Filter(must=(Match("flag", 1),)), {"c"}),
    (Filter(must=(Match("n", 1),)), {"a"}),
    (Filter(must=(MatchAny("s", ("blue", "green")),)), {"b", "d"}),
    (Filter(must=(MatchAny("n", (1, 3)),)), {"a", "b"}),
    (Filter(must=(MatchExcept("s", ("red",)),)), {"b", "d"}),
    (Filter(must=(MatchText("body", "brown"),)), {"a", "c"}),
    (Filter(must=(Range("n", gte=2, lt=4.5),)), {"b", "d"}),  # 2.0 stored as a float
    (Filter(must=(Range("n", gt=1, lte=4.5),)), {"b", "c", "d"}),
    (Filter(must=(DatetimeRange("when", gte=dt.datetime(2024, 1, 1)),)), {"a", "c", "d"}),
    (Filter(must=(DatetimeRange("when", lt=dt.datetime(2024, 3, 5, 0, 0, 1, tzinfo=dt.UTC)),)),
     {"a", "b"}),
    (Filter(must=(DatetimeRange("when", gt=dt.date(2024, 7, 1), lte=dt.date(2025, 1, 1)),)), {"d", "c"}),
    (Filter(must=(IsEmpty("e"),)), {"a", "b", "d"}),  # null, [] and missing
    (Filter(must=(IsNull("e"),)), {"a"}),
    (Filter(must=(HasId((point_id("a"), point_id("d"))),)), {"a", "d"}),
    (Filter(must=(HasVector("sparse"),)), SPARSE),
    (Filter(must_not=(HasVector("sparse"),)), {"b", "d"}),
    # one object of the array holds both (flat paths would also take b, whose objects split them)
    (Filter(must=(Nested("items", Filter(must=(Match("k", 1), Match("v", "p")))),)), {"a"}),
    (Filter(must=(Match("items[].k", 1), Match("items[].v", "p"))), {"a", "b"}),
    (Filter(should=(RED, Match("s", "blue"))), {"a", "b", "c"}),
    (Filter(must=(RED,), must_not=(Match("n", 1),)), {"c"}),
    (Filter(must=(Filter(should=(Match("n", 3), Range("n", gte=4)),),), must_not=(IsEmpty("e"),)), {"c"}),
    (Filter(min_should=MinShould((RED, Match("s", "green"), Range("n", lte=2)), 2)), {"a", "d"}),
    (Filter(must=(IsEmpty("e"),), must_not=(IsEmpty("e"),)), set()),  # nothing: the empty $in
    (Filter(), set(PAYLOADS)),
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


def selected(engine, tree):
    return {NAMES[f.id] for f in scroll_all(engine, "c", tree)}


@pytest.mark.parametrize("tree, expected", CASES)
def test_each_node_selects_on_a_real_shard(edge, tree, expected):
    assert selected(edge, tree) == expected
    assert edge.run("c", Count(tree)) == len(expected)

