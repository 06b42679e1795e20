"""`qdrant.groups`: the payload path an engine groups by (`key_path`) and the core's own
grouping where the engine has none (`pick`): at most `size` hits per group, groups ordered by
their best hit, and whether `k` groups are complete (else the core searches deeper)."""

from __future__ import annotations

import pytest

from hybridstore import Hit, Record
from hybridstore.errors import FilterError
from hybridstore.qdrant.groups import key_path, pick


def hit(rid: str, score: float, doc: str | None = None, **metadata) -> Hit:
    return Hit(Record(rid, f"text of {rid}", metadata, doc_id=doc), score)


def ids(hits: list[Hit]) -> list[str]:
    return [h.record.id for h in hits]


# best first: documents a, b, a, c, b, a, c
RANKED = [hit("a1", 0.9, "a"), hit("b1", 0.8, "b"), hit("a2", 0.7, "a"), hit("c1", 0.6, "c"),
          hit("b2", 0.5, "b"), hit("a3", 0.4, "a"), hit("c2", 0.3, "c")]


@pytest.mark.parametrize("group_by, prefix, path", [
    ("doc_id", "metadata.", "doc_id"),
    ("doc_id", "", "doc_id"),
    ("topic", "metadata.", "metadata.topic"),
    ("topic", "", "topic"),
    ("author.name", "metadata.", "metadata.author.name"),
    ('"a.b"', "metadata.", 'metadata."a.b"'),
    ("tags[]", "metadata.", "metadata.tags[]"),
    ("my key", "", '"my key"'),
])
def test_key_path_in_each_layout(group_by, prefix, path):
    assert key_path(group_by, prefix) == path


def test_key_path_refuses_a_key_that_is_no_path_and_says_how_to_quote():
    with pytest.raises(FilterError, match=r"""metadata key 'a..b' cannot be read as a path.*written quoted \('"a.b"'\)"""):
        key_path("a..b", "metadata.")


def test_groups_are_ordered_by_their_best_hit_each_best_first():
    picked, enough = pick(RANKED, "doc_id", k=2, size=2)
    assert ids(picked) == ["a1", "a2", "b1", "b2"] and enough
    picked, enough = pick(RANKED, "doc_id", k=3, size=1)
    assert ids(picked) == ["a1", "b1", "c1"] and enough


def test_incomplete_groups_say_so_so_the_core_searches_deeper():
    picked, enough = pick(RANKED, "doc_id", k=3, size=3)
    assert ids(picked) == ["a1", "a2", "a3", "b1", "b2", "c1", "c2"] and not enough  # b, c: two each
    picked, enough = pick(RANKED, "doc_id", k=4, size=1)
    assert ids(picked) == ["a1", "b1", "c1"] and not enough  # three groups found of four asked
    assert pick([], "doc_id", 2, 1) == ([], False)


def test_hits_of_later_groups_do_not_enter_once_k_groups_are_open():
    picked, _ = pick(RANKED, "doc_id", k=1, size=5)
    assert ids(picked) == ["a1", "a2", "a3"]


def test_grouping_by_metadata_values_nested_keys_and_lists():
    hits = [hit("1", 0.9, topic="x", author={"name": "Ana"}, tags=["p", "q"]),
            hit("2", 0.8, topic="y", author={"name": "Ana"}, tags=["q", "p"]),
            hit("3", 0.7, topic="x", author={"name": "Bo"}, tags=["p"]),
            hit("4", 0.6)]  # no such keys: in no group
    assert ids(pick(hits, "topic", 5, 5)[0]) == ["1", "3", "2"]
    assert ids(pick(hits, "author.name", 5, 5)[0]) == ["1", "2", "3"]
    # a list: the hit is in the group of each of its values, as Qdrant groups
    assert ids(pick(hits, "tags", 5, 5)[0]) == ["1", "2", "3", "1", "2"]
    assert ids(pick(hits, "tags[]", 1, 5)[0]) == ["1", "2", "3"]
    assert pick(hits, "author", 5, 5) == ([], False)  # an object is no group key (nor on a server)


def test_hits_without_a_group_key_join_no_group():
    hits = [hit("none", 0.9), hit("a1", 0.8, "a"), hit("nested", 0.7, topic={"x": 1})]
    picked, enough = pick(hits, "doc_id", k=1, size=1)
    assert ids(picked) == ["a1"] and enough
    assert pick(hits, "topic.x", 2, 1)[0] == [hits[2]]
    for odd in (1.5, True, None, [1, 2.5]):  # a float, a bool, null, a list holding one: no group
        assert pick([hit("1", 0.9, v=odd)], "v", 1, 1) == ([], False), odd


# -- the core's grouping is the engines' own --------------------------------------------------
# Values of every type a metadata key may hold, on points whose scores fall in this order.
PAYLOADS = [
    {"tags": ["p", "q"], "topic": "x", "year": 2020, "rating": 4.5, "flag": True, "author": {"name": "Ana"}},
    {"tags": ["q"], "topic": "y", "year": 2021, "rating": 3.0, "flag": False, "author": {"name": "Bo"}},
    {"tags": ["r", "p", "p"], "topic": "x", "year": 2020, "author": {"name": "Ana"}},
    {"tags": [], "topic": None, "year": "2020"},
    {"tags": ["s", 1.5], "topic": ["x", "z"], "year": [2022, 2020]},
    {"tags": [["t"], "u"], "topic": 7, "author": [{"name": "Cy"}]},
    {"tags": "p", "topic": "z", "year": True},
    {},
]


@pytest.fixture(scope="module")
def native():
    """qdrant-client's local mode, which groups as a Qdrant server does (its reference), with
    the canonical payloads of PAYLOADS, scored best first in their order."""
    import math

    from qdrant_client import QdrantClient
    from qdrant_client import models as qm

    from hybridstore.qdrant.layouts import CANONICAL

    client = QdrantClient(location=":memory:")
    client.create_collection("g", vectors_config=qm.VectorParams(size=2, distance=qm.Distance.COSINE))
    records = [Record(str(i), f"text {i}", meta, doc_id=f"d{i % 3}") for i, meta in enumerate(PAYLOADS)]
    client.upsert("g", [qm.PointStruct(id=i, vector=[math.cos(i / 10), math.sin(i / 10)],
                                       payload=CANONICAL.to_payload(r)) for i, r in enumerate(records)])
    found = client.query_points("g", query=[1.0, 0.0], limit=100).points
    hits = [Hit(CANONICAL.to_record(p.payload, p.id), p.score) for p in found]
    assert [h.record.id for h in hits] == [str(i) for i in range(len(PAYLOADS))]
    yield client, hits
    client.close()


@pytest.mark.parametrize("group_by", ["doc_id", "topic", "tags", "year", "rating", "flag", "author",
                                      "author.name", "tags[]", "author[].name", "tags[1]"])
@pytest.mark.parametrize("k, size", [(10, 10), (2, 1), (3, 2)])
def test_the_core_groups_as_an_engine_that_groups_natively(native, group_by, k, size):
    client, hits = native
    groups = client.query_points_groups("g", query=[1.0, 0.0], group_by=key_path(group_by, "metadata."),
                                        limit=k, group_size=size).groups
    theirs = [p.payload["id"] for g in groups for p in g.hits]
    assert ids(pick(hits, group_by, k, size)[0]) == theirs


def test_an_index_on_qdrant_edge_groups_as_one_in_local_mode():
    """End to end: the same records and query on Qdrant Edge (grouped by the core) and in
    qdrant-client's local mode (grouped by the engine)."""
    import math

    from hybridstore import HybridIndex, Models
    from hybridstore.engine import ClientEngine, EdgeEngine

    records = [Record(str(i), f"text {i}", meta) for i, meta in enumerate(PAYLOADS)]
    dense = [[math.cos(i / 10), math.sin(i / 10)] for i in range(len(records))]
    found = {}
    for name, engine in (("edge", EdgeEngine()), ("local", ClientEngine())):
        with HybridIndex("g", Models(dense=None), engine=engine) as index:
            index.add(records, dense=dense)
            found[name] = {key: ids(index.search("", 3, mode="dense", dense_vector=[1.0, 0.0], group_by=key,
                                                 group_size=2))
                           for key in ("tags", "topic", "year", "rating", "tags[]")}
    assert found["edge"] == found["local"]
    assert found["edge"]["tags"] == ["0", "2", "0", "1", "2"]  # groups p: 0, 2; q: 0, 1; r: 2
