"""Grouped search (native and emulated) and batch search, through the core and both adapters;
geo and values-count filters (raw and dict) through an index on the engine under test."""

import pytest
from qdrant_client import models as qm

from hybridstore import FilterError, HybridIndex, InvalidInputError, Record
from hybridstore.engine import ClientEngine, EdgeEngine


class NoNativeGroups(ClientEngine):
    """The same engine with native grouping switched off: the core's emulation runs."""

    groups = False


def chunked_records():
    """Three chunks per source document, so grouping has something to do."""
    docs = {"guitars": ["The guitar has six strings.", "Electric guitars need amplifiers.",
                        "Guitar strings are steel or nylon."],
            "pianos": ["The piano has 88 keys.", "A grand piano has a long body.",
                       "Piano strings are struck by hammers."],
            "cats": ["Cats sleep most of the day.", "Cats hunt at night.", "Kittens play with string."]}
    return [Record(f"{d}-{i}", t, {"topic": d, "part": i}, doc_id=d)
            for d, texts in docs.items() for i, t in enumerate(texts)]


@pytest.fixture(params=["native", "emulated"])
def grouped_index(request, models):
    engine = ClientEngine() if request.param == "native" else NoNativeGroups()
    idx = HybridIndex("groups", models, engine=engine)
    idx.add(chunked_records())
    yield idx
    idx.close()


def doc_ids(hits):
    return [h.record.doc_id for h in hits]


@pytest.mark.parametrize("options", [{"mode": "dense", "rerank": False}, {"mode": "sparse", "rerank": False},
                                     {"mode": "hybrid", "rerank": False}, {"mode": "hybrid", "rerank": True}])
def test_at_most_n_hits_per_document(grouped_index, options):
    hits = grouped_index.search("strings of a guitar", 3, group_by="doc_id", group_size=1, **options)
    assert sorted(doc_ids(hits)) == sorted(set(doc_ids(hits))) and len(hits) <= 3
    two = grouped_index.search("strings of a guitar", 2, group_by="doc_id", group_size=2, **options)
    assert all(doc_ids(two).count(d) <= 2 for d in doc_ids(two)) and len(set(doc_ids(two))) == 2
    if options["mode"] != "sparse":  # BM25 only matches chunks sharing a word with the query
        assert len(two) == 4
    first = two[0].record.doc_id
    assert [h.score for h in two if h.record.doc_id == first] == sorted(
        (h.score for h in two if h.record.doc_id == first), reverse=True)


def test_native_and_emulated_grouping_agree(models):
    native = HybridIndex("n", models, engine=ClientEngine())
    emulated = HybridIndex("e", models, engine=NoNativeGroups())
    spelled = [Record(r.id, r.text, {**r.metadata, "the topic": r.doc_id, "t.opic": r.doc_id}, doc_id=r.doc_id)
               for r in chunked_records()]  # keys a path must quote: a space, a dot inside the key
    for idx in (native, emulated):
        idx.add(spelled)
    for query in ("strings", "sleeping cats", "piano keys"):
        for key, size in (("doc_id", 1), ("doc_id", 2), ("topic", 1), ("the topic", 1), ('"t.opic"', 2)):
            a = native.search(query, 2, group_by=key, group_size=size, mode="dense", rerank=False)
            b = emulated.search(query, 2, group_by=key, group_size=size, mode="dense", rerank=False)
            assert [h.record.id for h in a] == [h.record.id for h in b]
            assert len({h.record.doc_id for h in b}) == 2, (query, key)  # two groups, each found


def test_a_servers_groups_agree_with_the_cores_grouping(models):
    """The fake server's groups endpoint (tests/reliability) and the core's grouping of a
    deeper ungrouped result give the same hits (its scores all tie: the order stored decides)."""
    from .reliability.fake_qdrant import FakeQdrant

    with FakeQdrant() as fake:
        native = HybridIndex("groups", models, url=fake.url)
        emulated = HybridIndex("groups", models, engine=NoNativeGroups(url=fake.url))
        native.add(chunked_records())
        for key, size, k in (("doc_id", 1, 2), ("doc_id", 2, 3), ("topic", 3, 1), ("part", 2, 10)):
            a = native.search("strings", k, group_by=key, group_size=size, mode="dense", rerank=False)
            b = emulated.search("strings", k, group_by=key, group_size=size, mode="dense", rerank=False)
            assert [h.record.id for h in a] == [h.record.id for h in b] and a, (key, size)
            assert len({str(h.record.metadata.get(key, h.record.doc_id)) for h in a}) == min(k, 3)
        assert any(path.endswith("/points/query/groups") for _, path, _ in fake.bodies)
        native.close()
        emulated.close()


async def test_grouping_async_filter_and_exhaustion(grouped_index):
    hits = await grouped_index.asearch("strings", 10, group_by="topic", group_size=1, mode="dense")
    assert sorted(doc_ids(hits)) == ["cats", "guitars", "pianos"]  # fewer groups than asked: all of them
    hits = grouped_index.search("strings", 5, group_by="doc_id", filter={"topic": {"$ne": "cats"}})
    assert set(doc_ids(hits)) == {"guitars", "pianos"}


def test_batch_equals_single_searches(index):
    queries = ["who plays the guitar", "central bank", "volcano ash", "sleepy cats"]
    for options in ({}, {"mode": "dense", "rerank": False}, {"mode": "sparse"}, {"fusion": "dbsf", "rerank": False}):
        batch = index.search_batch(queries, 3, **options)
        single = [index.search(q, 3, **options) for q in queries]
        assert [[h.record.id for h in hs] for hs in batch] == [[h.record.id for h in hs] for hs in single]
        assert [[round(h.score, 5) for h in hs] for hs in batch] == [[round(h.score, 5) for h in hs] for hs in single]


async def test_async_batch_and_filters(index):
    batch = await index.asearch_batch(["guitar", "bank"], 2, filter={"topic": "music"})
    assert all(h.record.metadata["topic"] == "music" for hs in batch for h in hs)
    with pytest.raises(InvalidInputError, match="non-empty list"):
        index.search_batch("guitar")
    with pytest.raises(InvalidInputError, match="does not group"):
        index.search_batch(["a"], group_by="doc_id")
    with pytest.raises(InvalidInputError, match="query must be a non-empty string"):
        index.search_batch(["ok", ""])


def test_langchain_grouping_and_batch(monkeypatch):
    from hybridstore.langchain import HybridRetriever, HybridVectorStore

    store = HybridVectorStore("lc-groups")
    records = chunked_records()
    store.add_texts([r.text for r in records], [dict(r.metadata, source=r.doc_id) for r in records],
                    ids=[r.id for r in records])
    docs = store.similarity_search("strings", 3, group_by="doc_id")
    assert sorted(d.metadata["source"] for d in docs) == ["cats", "guitars", "pianos"]
    calls = []
    monkeypatch.setattr(store.index, "search", lambda *a, **k: calls.append(a) or [])
    queries = ["guitar strings", "piano keys", "cats"]
    for retriever in (store.as_retriever(search_kwargs={"k": 1}), HybridRetriever(store=store, k=1)):
        results = retriever.batch(queries)
        assert [r[0].metadata["topic"] for r in results] == ["guitars", "pianos", "cats"]
    assert calls == []  # one batch search, never a loop of single searches


async def test_langchain_abatch_and_llama_grouping():
    from llama_index.core.vector_stores.types import VectorStoreQuery

    from hybridstore.langchain import HybridVectorStore as LCStore
    from hybridstore.llama_index import HybridVectorStore as LIStore

    lc = LCStore("lc-abatch")
    lc.add_texts(["alpha text", "beta text"], ids=["a", "b"])
    found = await lc.as_retriever(search_kwargs={"k": 1}).abatch(["alpha", "beta"])
    assert [d[0].id for d in found] == ["a", "b"]
    li = LIStore("li-groups", search_options={"group_by": "doc_id", "group_size": 1})
    li.index.add(chunked_records())
    result = li.query(VectorStoreQuery(query_str="strings", mode="sparse", similarity_top_k=3))
    assert sorted(n.ref_doc_id for n in result.nodes) == ["cats", "guitars", "pianos"]


@pytest.fixture(params=["embedded", "server"])
def any_engine(request, index, models, records):
    if request.param == "embedded":
        yield index
        return
    from .reliability.fake_qdrant import FakeQdrant

    with FakeQdrant() as fake:
        served = HybridIndex("served", models, engine=ClientEngine(url=fake.url, timeout=5))
        served.add(records)
        yield served


def test_hits_leave_the_hashes_in_the_engine_and_keep_their_ids(any_engine, monkeypatch):
    """Searches ask the engine for text, metadata and ids only: the layout's two hashes
    (most of what a point carries back) are not read. Ids still come out right, from the
    payload, or from the point when the payload lacks one (a point written by other tools)."""
    from hybridstore.engine.requests import Query, QueryBatch

    index, found = any_engine, []
    run = index.engine.run

    def spy(collection, request):
        out = run(collection, request)
        if isinstance(request, (Query, QueryBatch)):
            found.extend(f for page in (out if isinstance(request, QueryBatch) else [out]) for f in page)
        return out

    monkeypatch.setattr(index.engine, "run", spy)
    stored = {r.id: r for r in index.get()}
    hits = index.search("cats", 3, mode="hybrid", rerank=False)
    hits += [h for page in index.search_batch(["dogs", "guitars"], 2, rerank=False) for h in page]
    assert len(found) == len(hits) > 0
    layout = index.layout
    assert all(layout.hash_key not in f.payload and layout.vector_hash_key not in f.payload for f in found)
    assert all(f.payload for f in found)  # everything else is still there
    assert all(h.record == stored[h.record.id] for h in hits)
    point = found[0]
    del point.payload["id"]  # as if another tool wrote it: the point's own id is read
    assert index.layout.to_record(point.payload, point).id == point.id == str(index._col.pid(hits[0].record.id))


PLACES = [Record("berlin", "A city on the Spree with many museums.",
                 {"loc": {"lat": 52.52, "lon": 13.405}, "tags": ["museums", "river", "history"]}),
          Record("paris", "A city on the Seine with many cafes.", {"loc": {"lat": 48.8566, "lon": 2.3522}, "tags": "cafes"}),
          Record("tokyo", "A city by a bay with many trains.", {"loc": [{"lat": 35.68, "lon": 139.69}], "tags": []}),
          Record("nowhere", "A city nobody has placed on a map.", {})]
BERLIN = {"lat": 52.52, "lon": 13.405}
SQUARE = [{"lat": 45, "lon": 0}, {"lat": 45, "lon": 15}, {"lat": 55, "lon": 15}, {"lat": 55, "lon": 0}, {"lat": 45, "lon": 0}]
AROUND_PARIS = [{"lat": 48, "lon": 1}, {"lat": 48, "lon": 4}, {"lat": 50, "lon": 4}, {"lat": 50, "lon": 1}, {"lat": 48, "lon": 1}]


def ring(points):
    return qm.GeoLineString(points=[qm.GeoPoint(**p) for p in points])


def raw(**condition):
    return qm.Filter(must=[qm.FieldCondition(key="metadata." + condition.pop("key", "loc"), **condition)])


# (a raw qdrant-client Filter, the same as a filter dict, the records both select)
GEO_CASES = [
    (raw(geo_radius=qm.GeoRadius(center=qm.GeoPoint(**BERLIN), radius=1_000_000)),
     {"loc": {"$geo_radius": {**BERLIN, "meters": 1_000_000}}}, {"berlin", "paris"}),
    (raw(geo_bounding_box=qm.GeoBoundingBox(top_left=qm.GeoPoint(lat=40, lon=130),
                                            bottom_right=qm.GeoPoint(lat=30, lon=-170))),
     {"loc": {"$geo_box": {"top_left": {"lat": 40, "lon": 130}, "bottom_right": {"lat": 30, "lon": -170}}}},
     {"tokyo"}),  # across the antimeridian
    (raw(geo_polygon=qm.GeoPolygon(exterior=ring(SQUARE), interiors=[ring(AROUND_PARIS)])),
     {"loc": {"$geo_polygon": {"exterior": SQUARE, "interiors": [AROUND_PARIS]}}}, {"berlin"}),
    (raw(key="tags", values_count=qm.ValuesCount(gte=1, lte=1)), {"tags": {"$count": 1}}, {"paris"}),
    (raw(key="tags", values_count=qm.ValuesCount(lt=2)), {"tags": {"$count": {"$lt": 2}}}, {"paris", "tokyo", "nowhere"}),
]


@pytest.fixture(scope="module", params=[{}, {"loc": "geo", "tags": "keyword"}], ids=["plain", "indexed"])
def places(request, models):
    idx = HybridIndex("places", models, location=":memory:", payload_indexes=request.param)
    idx.add(PLACES)
    yield idx
    idx.close()


@pytest.mark.parametrize("flt, spec, expected", GEO_CASES)
def test_geo_and_values_count_filters_search_and_count(places, flt, spec, expected):
    for f in (flt, spec):
        assert places.count(f) == len(expected)
        assert {h.record.id for h in places.search("a city", 10, filter=f)} == expected
        assert {h.record.id for h in places.search("a city", 10, mode="dense", rerank=False, filter=f)} == expected


def test_a_geo_payload_index_on_edge(models):
    """The "indexed" case above on local mode indexes nothing; here the shard is asked."""
    with HybridIndex("geo", models, engine=EdgeEngine(location=":memory:"), payload_indexes={"loc": "geo"}) as idx:
        idx.add(PLACES)
        assert idx.engine.info("geo")["payload_schema"]["metadata.loc"]["type"] == "Geo"
        assert idx.count(GEO_CASES[0][1]) == 2


@pytest.mark.parametrize("flt, words", [
    (raw(geo_polygon=qm.GeoPolygon(exterior=ring(SQUARE[:3]))), "has 3 point(s)"),
    (raw(geo_polygon=qm.GeoPolygon(exterior=ring(SQUARE[:4] + [{"lat": 45, "lon": 1}]))), "is not closed"),
    (raw(geo_radius=qm.GeoRadius(center=qm.GeoPoint(**BERLIN), radius=-1)), "meters >= 0"),
    (raw(geo_radius=qm.GeoRadius(center=qm.GeoPoint(lat=100, lon=0), radius=1)), "lat must be a number in"),
    ({"loc": {"$geo_radius": {"lat": 0, "lon": 200, "meters": 1}}}, "lon must be a number in"),
])
def test_malformed_geo_is_refused_on_the_engine_under_test(places, flt, words):
    with pytest.raises(FilterError, match=words.replace("(", r"\(").replace(")", r"\)")):
        places.search("a city", 3, filter=flt)
    with pytest.raises(FilterError, match=words.replace("(", r"\(").replace(")", r"\)")):
        places.count(flt)
    assert places.count() == len(PLACES)  # nothing lost
