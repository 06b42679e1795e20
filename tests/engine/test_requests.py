"""`engine.requests`: what every engine shares: `Found` (a point read back, its id a string
read on first use, sent whole between processes) and `scroll` (the core pages through a
filter, a page per request, up to a limit). Runs on the engine of $HYBRIDSTORE_ENGINE; no model."""

from __future__ import annotations

import os
import pickle

import pytest
from qdrant_client import models as qm

from hybridstore.engine import ClientEngine, EdgeEngine
from hybridstore.engine.requests import PAGE, Create, Found, ScrollPage, Write
from hybridstore.qdrant import filters
from hybridstore.qdrant.payload import Point, SparseVec, point_id
from hybridstore.qdrant.schema import Schema, VectorField

from ..conftest import scroll_all

ENGINE = os.environ.get("HYBRIDSTORE_ENGINE") or "edge"
N = 2 * PAGE + 7
SCHEMA = Schema((VectorField("dense", "dense", 2), VectorField("sparse", "sparse", None, modifier="idf")))


@pytest.fixture(scope="module")
def engine():
    made = EdgeEngine(location=":memory:") if ENGINE == "edge" else ClientEngine(location=":memory:")
    made.run("c", Create(SCHEMA))
    made.run("c", Write([Point(point_id(str(i)), {"dense": [1.0, i / N], "sparse": SparseVec([i % 5], [1.0])},
                               {"id": str(i), "even": i % 2 == 0}) for i in range(N)]))
    yield made
    made.close()


@pytest.mark.parametrize("limit, count", [(None, N), (1, 1), (PAGE, PAGE), (PAGE + 1, PAGE + 1), (N + 10, N)])
def test_scroll_pages_up_to_its_limit_with_no_point_twice(engine, limit, count):
    found = scroll_all(engine, "c", None, limit)
    assert len(found) == count and len({f.id for f in found}) == count
    if limit is None:
        assert {f.payload["id"] for f in found} == {str(i) for i in range(N)}


def test_scroll_follows_its_filter_across_pages(engine):
    even = filters.to_filter(qm.Filter(must=[qm.FieldCondition(key="even", match=qm.MatchValue(value=True))]))
    found = scroll_all(engine, "c", even)
    assert sorted(int(f.payload["id"]) for f in found) == list(range(0, N, 2))


def test_a_page_is_at_most_its_limit_and_says_where_the_next_starts(engine):
    page, offset = engine.run("c", ScrollPage(None, 10))
    assert len(page) == 10 and offset is not None
    rest, _ = engine.run("c", ScrollPage(None, 10, offset))
    assert not {f.id for f in page} & {f.id for f in rest}
    last, end = engine.run("c", ScrollPage(None, N + 1))
    assert len(last) == N and end is None


def test_found_ids_are_strings_and_found_travels_whole(engine):
    page, _ = engine.run("c", ScrollPage(None, 3, with_vectors=True))
    for f in page:
        assert f.id == point_id(f.payload["id"]) and str(f) == f.id
        back = pickle.loads(pickle.dumps(f))
        assert (back.id, back.payload, back.score) == (f.id, f.payload, f.score)
        assert back.vectors is not None and len(back.vectors["dense"]) == 2
        assert f"Found(id={f.id!r}" in repr(f)
    plain = Found(7, {"a": 1}, 0.5)
    assert plain.id == "7" and str(plain) == "7" and pickle.loads(pickle.dumps(plain)).id == "7"
