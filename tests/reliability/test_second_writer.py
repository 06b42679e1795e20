"""A second writer after open (issue 28, case 1): two indexes on one collection, one with ColBERT
and one without. Whatever the other changed after an index opened the collection, a write never
omits a vector the collection has and a search never leaves points out without an error.

Two indexes meet on one collection through a shared engine (``engine=``: the embedded engine
of this run, Qdrant Edge or local mode), a shared ``client=`` (qdrant-client's local mode) or a
server (the fake one). An on-disk folder is locked to one engine, and ``location=":memory:"``
gives each index its own storage, so these three are all the ways; tenant views share their
index's engine.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.embeddings import DeterministicFakeEmbedding
from qdrant_client import QdrantClient

from hybridstore import (
    CollectionNotFoundError,
    HybridIndex,
    MissingVectorsError,
    Models,
    Record,
    SchemaMismatchError,
    Settings,
)

from ..conftest import LATE
from .fake_qdrant import FakeQdrant

RECORDS = [Record(f"r{i}", f"Rice dish number {i} is cooked slowly with broth.") for i in range(5)]
NEW = [Record(f"n{i}", f"Another rice recipe, {i}, with saffron.") for i in range(3)]
WAYS = ["engine", "client", "server"]


class Dense(DeterministicFakeEmbedding):
    """A small dense model of one's own; `hook` runs once, at the next embedding (to change the
    collection between an add's checks and its write, as another process would)."""

    hook: Any = None

    def embed_documents(self, texts):
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        return super().embed_documents(texts)


@pytest.fixture(scope="module")
def late_models():
    return Models(dense=Dense(size=16), late_interaction=LATE)


@pytest.fixture
def opener(request):
    """Opens indexes on one collection, the way `request.param` shares it."""
    with FakeQdrant() as fake:
        shared = {"engine": lambda: {"engine": Settings(location=":memory:").open_engine()},
                  "client": lambda: {"client": QdrantClient(":memory:")},
                  "server": lambda: {"url": fake.url}}[request.param]()
        opened: list[HybridIndex] = []

        def open_index(models: Models) -> HybridIndex:
            opened.append(HybridIndex("c", models, optimize_threshold=None, **shared))
            return opened[-1]

        yield open_index
        for idx in opened:
            idx.close()
        for resource in shared.values():
            if not isinstance(resource, str):
                resource.close()


@pytest.mark.parametrize("opener", WAYS, indirect=True)
def test_a_writer_without_the_vector_another_added_is_refused(opener, late_models):
    a = opener(Models(dense=Dense(size=16)))
    a.add(RECORDS)
    b = opener(late_models)
    assert b.reembed()["late"] == len(RECORDS)
    with pytest.raises(SchemaMismatchError, match=r"'late'.*colbert.*drop_vector\('late'\)"):
        a.add(NEW)  # it was accepted without the late vector
    assert len(b.search("rice", 100)) == len(RECORDS)
    assert {v["name"]: v["lacking"] for v in b.info()["vectors"]}["late"] == 0


@pytest.mark.parametrize("opener", WAYS, indirect=True)
def test_a_gap_another_writer_left_makes_searches_say_so(opener, late_models):
    """The other index adds the vector while this one's add embeds (after its checks): the
    points land without it, and searches that use it say so instead of leaving them out."""
    dense = Dense(size=16)
    a = opener(Models(dense=dense))
    a.add(RECORDS)
    b = opener(late_models)
    dense.hook = b.reembed  # b opens the collection, adds the vector and fills it
    a.add(NEW)
    with pytest.raises(MissingVectorsError, match=r"3 point\(s\).*'late'.*reembed\(\)"):
        b.search("rice", 100)
    assert len(b.search("rice", 100, rerank=False)) == len(RECORDS) + len(NEW)
    with pytest.raises(MissingVectorsError):
        b.search_batch(["rice", "saffron"], 100)
    with pytest.raises(MissingVectorsError):
        asyncio.run(b.asearch("rice", 100))
    b.reembed()
    assert len(b.search("rice", 100)) == len(RECORDS) + len(NEW)


# -- the property: writers with different models interleaved at random -----------------------------

WRITERS = {"plain": {}, "late": {"late_interaction": LATE}, "dense-only": {"sparse": None}}
SEARCH_ERRORS = (MissingVectorsError, SchemaMismatchError, CollectionNotFoundError)
TEXTS = ["Risotto rice with broth.", "Arborio rice.", "Basmati rice for biryani.", "Volcano ash."]

ops = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(sorted(WRITERS)), st.sets(st.integers(0, 3), min_size=1).map(sorted)),
    st.tuples(st.just("reembed"), st.sampled_from(sorted(WRITERS))),
    st.tuples(st.just("race"), st.sampled_from(sorted(WRITERS)), st.sampled_from(sorted(WRITERS))),
    st.tuples(st.just("race"), st.just("plain"), st.just("late")),
    st.tuples(st.just("search"), st.sampled_from(sorted(WRITERS)), st.sampled_from([None, False])),
)


def _step(indexes: dict, step: tuple, stored: set, seen: dict) -> None:
    kind, (who, dense) = step[0], indexes[step[1]]
    if kind in ("add", "race"):
        ids = step[2] if kind == "add" else [0, 1]
        if kind == "race" and step[2] != step[1]:  # the other one reembeds while this one's add embeds
            dense.hook = lambda: _reembed(indexes[step[2]][0], seen)
        try:  # a race writes new texts: an unchanged record is not embedded again
            who.add([Record(f"t{i}", TEXTS[i] + ("!" if kind == "race" else "")) for i in ids])
            stored.update(f"t{i}" for i in ids)
        except SchemaMismatchError:
            seen["add refused"] = seen.get("add refused", 0) + 1
        dense.hook = None
    elif kind == "reembed":
        _reembed(who, seen)
    else:
        try:
            hits = who.search("rice", 20, rerank=step[2])
        except SEARCH_ERRORS as e:
            seen[type(e).__name__] = seen.get(type(e).__name__, 0) + 1
            return
        assert {h.record.id for h in hits} == stored, f"{step}: a search left points out silently"
        seen["complete"] = seen.get("complete", 0) + 1


def _reembed(idx: HybridIndex, seen: dict) -> None:
    try:
        idx.reembed()
    except (SchemaMismatchError, CollectionNotFoundError):
        seen["reembed refused"] = seen.get("reembed refused", 0) + 1


@pytest.mark.parametrize("opener", ["engine", "server"], indirect=True)
def test_writers_interleaved_at_random_never_leave_points_out_silently(opener):
    seen: dict = {}

    @settings(max_examples=8, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(steps=st.lists(ops, min_size=2, max_size=6))
    def check(steps):
        denses = {name: Dense(size=16) for name in WRITERS}
        indexes = {name: (opener(Models(dense=denses[name], **kinds)), denses[name])
                   for name, kinds in WRITERS.items()}
        stored: set = set()
        try:
            first = [("add", "plain", [0, 1, 2, 3])]  # a collection the others may change
            for step in first + steps + [("search", name, None) for name in WRITERS]:
                _step(indexes, step, stored, seen)
        finally:
            if indexes["plain"][0].info()["exists"]:
                indexes["plain"][0].drop()

    check()
    print(seen)
    assert seen.get("complete", 0) >= 10 and seen.get("MissingVectorsError", 0) >= 1
