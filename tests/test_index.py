"""HybridIndex end to end on the embedded engine with the real offline models."""

import asyncio

import pytest

from hybridstore import (
    CollectionNotFoundError,
    ConfigurationError,
    FilterError,
    HybridIndex,
    InvalidInputError,
    ModelNotFoundError,
    Models,
    Record,
    SchemaMismatchError,
    StorageLockedError,
)

from .conftest import FILTER_CASES


def ids(hits):
    return [h.record.id for h in hits]


@pytest.mark.parametrize("mode", ["dense", "sparse", "hybrid"])
@pytest.mark.parametrize("rerank", [False, True])
def test_every_mode_finds_the_relevant_texts(index, mode, rerank):
    hits = index.search("who plays the guitar", 3, mode=mode, rerank=rerank)
    assert set(ids(hits)[:2]) == {"guitar-1", "guitar-2"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_default_pipeline_is_hybrid_with_rerank(index):
    default = index.search("central bank interest", 3)
    explicit = index.search("central bank interest", 3, mode="hybrid", rerank=True)
    assert ids(default) == ids(explicit) and "rates" in ids(default)


def test_hits_carry_exactly_what_was_stored(index, records):
    hit = index.search("volcano ash", 1)[0]
    stored = next(r for r in records if r.id == "volcano")
    assert hit.record == stored and hit.record.metadata == {"topic": "nature", "year": 2021,
                                                            "author": {"name": "Ana", "country": "PT"}}
    assert isinstance(hit.record.id, str) and 0.0 <= hit.relevance <= 1.0


def test_top_k_is_honoured(index):
    assert len(index.search("music", 5, mode="dense")) == 5
    assert len(index.search("music", 50, mode="dense")) == 8


def test_fusion_options(index):
    dense_heavy = index.search("bank report", 8, mode="hybrid", rerank=False, weights=(1.0, 0.0))
    dense_only = index.search("bank report", 8, mode="dense", rerank=False)
    assert ids(dense_heavy)[:3] == ids(dense_only)[:3]
    dbsf = index.search("bank report", 3, mode="hybrid", rerank=False, fusion="dbsf")
    assert ids(dbsf)[0] in {"stocks", "rates"}
    rrf_k = index.search("bank report", 3, mode="hybrid", rerank=False, rrf_k=60)
    assert ids(rrf_k)[0] in {"stocks", "rates"}
    assert rrf_k[0].score <= 2 / 60 + 1e-6  # k=60 reached the engine: at most 1/60 per source


def test_mmr_lambda_one_is_pure_relevance(index):
    relevance = index.search("guitar music", 4, mode="dense", rerank=False)
    assert ids(index.search("guitar music", 4, mmr=1.0, rerank=False)) == ids(relevance)
    diverse = index.search("guitar music", 4, mmr=0.0, rerank=False, fetch_k=8)
    assert ids(diverse)[0] == ids(relevance)[0] and ids(diverse) != ids(relevance)


def test_score_threshold(index):
    hits = index.search("guitar", 8, mode="dense", rerank=False, score_threshold=0.3)
    assert hits and all(h.score >= 0.3 for h in hits) and len(hits) < 8


@pytest.mark.parametrize("flt, expected", FILTER_CASES)
def test_filters_apply_to_search_and_count(index, flt, expected):
    for mode, rerank in (("dense", False), ("sparse", False), ("hybrid", True)):
        hits = index.search("music finance animals nature", 10, mode=mode, rerank=rerank, filter=flt)
        assert set(ids(hits)) <= expected
    assert set(ids(index.search("x", 10, mode="dense", filter=flt, rerank=False))) == expected
    assert index.count(flt) == len(expected)
    assert {r.id for r in index.get(filter=flt)} == expected


def test_text_match_filter(index):
    index.add([Record("note-1", "first note", {"note": "the quarterly bank report was late"}),
               Record("note-2", "second note", {"note": "a river bank in spring"}),
               Record("note-3", "third note", {"note": "nothing to see"})])
    hits = index.search("note", 10, mode="dense", rerank=False, filter={"note": {"$text": "bank"}})
    assert set(ids(hits)) == {"note-1", "note-2"}
    assert index.count({"note": {"$text": "quarterly bank"}}) == 1


def test_get_keeps_order_and_skips_missing(index, records):
    got = index.get(["dogs", "nope", "cats"])
    assert [r.id for r in got] == ["dogs", "cats"]
    assert got[0] == next(r for r in records if r.id == "dogs")


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
    with pytest.raises(InvalidInputError, match="needs ids=, filter= or doc_id="):
        index.delete(filter={})  # an empty filter names no record either (was an engine's TypeError)
    assert index.count() == 3


def test_drop_and_missing_collection(models, tmp_path):
    idx = HybridIndex("gone", models, path=str(tmp_path))
    with pytest.raises(CollectionNotFoundError, match="'gone' does not exist"):
        idx.search("x")
    assert idx.count() == 0 and idx.get(["a"]) == []
    idx.delete(["a"])  # nothing to delete is not an error
    idx.add([Record("a", "alpha")])
    assert idx.count() == 1
    idx.drop()
    assert idx.count() == 0
    with pytest.raises(CollectionNotFoundError):
        idx.search("alpha")
    idx.add([Record("b", "beta")])  # a dropped collection can be created again
    assert [r.id for r in idx.get()] == ["b"]
    idx.close()


@pytest.mark.parametrize("bad, words", [
    ([Record("a", "ok"), Record("a", "dup")], "duplicate id"),
    ([Record("z", "")], "text is empty"),
    ([Record("z", b"bytes")], "text must be a str"),
    ([Record("z", "ok", {"when": object()})], "cannot be stored"),
    ("a string", "iterable of Records"),
])
def test_bad_input_is_refused_before_any_write(index, bad, words):
    before = index.count()
    with pytest.raises(InvalidInputError, match=words):
        index.add(bad)
    assert index.count() == before


@pytest.mark.parametrize("kwargs, words", [
    ({"k": 0}, "k must be a positive integer"),
    ({"mode": "keyword"}, "unknown"),
    ({"colour": "red"}, "unknown search option"),
    ({"filter": {"year": {"$regex": 1}}}, "unknown operator"),
])
def test_bad_searches(index, kwargs, words):
    with pytest.raises((InvalidInputError, FilterError), match=words):
        index.search("guitar", **kwargs)
    with pytest.raises(InvalidInputError, match="non-empty string"):
        index.search("  ")


def test_mode_the_index_cannot_serve(records):
    idx = HybridIndex("dense-only", Models(sparse=None))
    idx.add(records[:2])
    with pytest.raises(InvalidInputError, match="mode 'sparse' needs a sparse model"):
        idx.search("x", mode="sparse")
    with pytest.raises(InvalidInputError, match="rerank=True needs a late_interaction model"):
        idx.search("x", rerank=True)


def test_schema_mismatch_is_refused_and_keeps_data(tmp_path, records):
    with HybridIndex("c", Models(), path=str(tmp_path)) as idx:
        idx.add(records)
    with HybridIndex("c", Models(sparse="prithivida/Splade_PP_en_v1"), path=str(tmp_path)) as other:
        with pytest.raises(SchemaMismatchError, match="'sparse'.*modifier=None.*modifier=idf|modifier=idf.*modifier=None"):
            other.search("guitar")
        with pytest.raises(SchemaMismatchError):
            other.add([Record("new", "text")])
    with HybridIndex("c", Models(late_interaction="colbert-ir/colbertv2.0"), path=str(tmp_path)) as late, \
            pytest.raises(SchemaMismatchError, match="'late'.*is missing"):
        late.search("guitar")
    with HybridIndex("c", Models(), path=str(tmp_path)) as again:
        assert again.count() == 8 and ids(again.search("guitar", 1))[0].startswith("guitar")


def test_on_disk_index_survives_reopen_and_is_locked(tmp_path, records):
    idx = HybridIndex("disk", Models(), path=str(tmp_path))
    idx.add(records)
    second = HybridIndex("disk", Models(), path=str(tmp_path))
    with pytest.raises(StorageLockedError, match=str(tmp_path)) as err:
        second.count()
    assert "close that one first" in str(err.value)
    second.close()
    idx.close()
    with HybridIndex("disk", Models(), path=str(tmp_path)) as reopened:
        assert reopened.count() == 8
        assert reopened.get(["volcano"])[0] == next(r for r in records if r.id == "volcano")
        assert ids(reopened.search("who plays the guitar", 2))[0].startswith("guitar")
    late = HybridIndex("disk", Models(late_interaction="colbert-ir/colbertv2.0"), path=str(tmp_path))
    with late, pytest.raises(SchemaMismatchError, match="'late'.*is missing"):
        late.search("guitar")  # the schema was read back from disk


def test_own_dense_vectors_as_numpy_arrays(records):
    import numpy as np

    idx = HybridIndex("own-np", Models())
    vecs = np.eye(len(records), 384, dtype=np.float32)
    idx.add(records, dense=vecs)  # a 2-d array
    idx.add(records, dense=list(vecs))  # a list of 1-d arrays
    assert idx.count() == len(records)
    assert ids(idx.search("x", 1, mode="dense", dense_vector=vecs[3]))[0] == records[3].id


def test_own_dense_vectors(records):
    from hybridstore.inference import Models as M

    own = M(dense=None)  # sparse only; dense vectors come from the caller
    idx = HybridIndex("own", own)
    vecs = [[float(i == j) for j in range(4)] for i in range(len(records))]
    idx.add(records, dense=vecs)
    hits = idx.search("guitar", 2, mode="dense", dense_vector=[0, 0, 1, 0])
    assert ids(hits)[0] == records[2].id
    assert ids(idx.search("guitar", 2, mode="hybrid", dense_vector=[1, 0, 0, 0]))[0] == "guitar-1"
    with pytest.raises(InvalidInputError, match="size 3, the collection's dense vector has size 4"):
        idx.add([Record("x", "y")], dense=[[1, 2, 3]])
    with pytest.raises(InvalidInputError, match="size 2, the collection's dense vector has size 4"):
        idx.search("x", mode="dense", dense_vector=[1, 2])
    with pytest.raises(InvalidInputError, match="no dense model; pass dense= vectors"):
        idx.add([Record("x", "y")])
    assert idx.count() == 8


def test_bad_index_settings(models):
    with pytest.raises(ConfigurationError, match="not allowed"):
        HybridIndex("../escape", models)
    with pytest.raises(ConfigurationError, match="give one of"):
        HybridIndex("x", models, location=":memory:", path="/tmp/x")


async def test_async_twins(models, records):
    idx = HybridIndex("async", models)
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


async def test_async_does_not_block_the_event_loop(models, records):
    idx = HybridIndex("loop", models)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await idx.aadd(records * 1 + [Record(f"more-{i}", f"extra text number {i} " * 40) for i in range(40)])
    task.cancel()
    assert ticks > 5  # the loop kept running while models embedded 48 texts


class OwnDense:
    """A caller's own dense model (LangChain's Embeddings shape) over a real model."""

    def __init__(self):
        self.inner = Models(sparse=None).dense
        self.calls = 0

    def embed_documents(self, texts):
        self.calls += 1
        return [v.tolist() for v in self.inner.embed_documents(texts)]

    def embed_query(self, text):
        self.calls += 1
        return self.inner.embed_query(text).tolist()


async def test_own_dense_model_object(records):
    own = OwnDense()
    idx = HybridIndex("own-model", Models(dense=own))
    assert idx.models.dense.dim == 384 and idx.models.describe()["dense"]["external"]
    idx.add(records)
    assert ids(idx.search("who plays the guitar", 2))[0].startswith("guitar")
    assert ids(await idx.asearch("volcano ash", 1)) == ["volcano"]
    reference = HybridIndex("ref", Models())
    reference.add(records)
    assert ids(idx.search("bank", 8, mode="dense")) == ids(reference.search("bank", 8, mode="dense"))
    calls = own.calls
    idx.search("bank", 3, mode="sparse")
    assert own.calls == calls  # a sparse query does not embed with the dense model


@pytest.mark.parametrize("options", [
    {"mode": "dense", "rerank": False}, {"mode": "sparse", "rerank": False},
    {"mode": "hybrid", "rerank": False}, {"mode": "hybrid", "rerank": False, "fusion": "dbsf"},
    {"mode": "hybrid", "rerank": True}, {"mode": "dense", "mmr": 0.5, "rerank": False},
])
def test_relevance_is_between_0_and_1_and_follows_the_order(index, options):
    hits = index.search("guitar on stage", 8, **options)
    rel = [h.relevance for h in hits]
    assert all(0.0 <= r <= 1.0 for r in rel) and rel[0] > 0.3
    if "mmr" not in options:
        assert rel == sorted(rel, reverse=True)


def test_search_restricted_to_ids_and_documents(index):
    hits = index.search("music", 8, ids=["cats", "piano", "missing"])
    assert set(ids(hits)) == {"cats", "piano"}
    hits = index.search("music", 8, doc_id=["doc-animals", "doc-nature"], mode="dense")
    assert set(ids(hits)) == {"cats", "dogs", "volcano"}
    hits = index.search("music", 8, doc_id="doc-music", filter={"year": {"$gt": 2020}})
    assert set(ids(hits)) == {"guitar-2", "piano"}


def test_get_by_filter_doc_id_and_limit(index):
    assert {r.id for r in index.get(filter={"topic": "finance"})} == {"stocks", "rates"}
    assert {r.id for r in index.get(doc_id="doc-animals")} == {"cats", "dogs"}
    assert len(index.get(limit=3)) == 3 and len(index.get()) == 8
    assert [r.id for r in index.get(["dogs", "cats"], filter={"year": {"$gt": 2020}})] == ["dogs"]
    assert index.get([]) == []


def test_per_source_prefetch_limits(index):
    hits = index.search("guitar", 8, mode="hybrid", rerank=False, dense_limit=1, sparse_limit=1)
    assert 1 <= len(hits) <= 2 and ids(hits)[0].startswith("guitar")
    assert len(index.search("guitar", 8, mode="hybrid", rerank=False)) == 8


def test_missing_dense_vectors_are_embedded_by_the_model(records):
    idx = HybridIndex("mixed", Models())
    own = Models(sparse=None).dense.embed_documents([records[0].text])[0].tolist()
    idx.add(records[:2], dense=[own, None])
    assert ids(idx.search("acoustic guitar on stage", 1, mode="dense")) == ["guitar-2"]
    sparse_only = HybridIndex("mixed2", Models(dense=None))
    with pytest.raises(InvalidInputError, match="no dense model to embed them"):
        sparse_only.add(records[:2], dense=[[1.0, 0.0], None])
    assert sparse_only.count() == 0


def test_generators_stream_in_bounded_chunks(models):
    from hybridstore import ingest as index_module

    produced = 0

    def records():
        nonlocal produced
        for i in range(600):
            produced += 1
            yield Record(f"g{i}", f"streamed record number {i}", {"n": i})

    seen_batches = []
    idx = HybridIndex("stream", Models())
    gen = records()
    ids = idx.add(gen, progress=lambda n: seen_batches.append((n, produced)))
    assert len(ids) == 600 and idx.count() == 600
    # each chunk was produced just before it was written: never the whole generator at once
    assert [n for n, _ in seen_batches] == [256, 256, 88]
    assert all(p <= sum(n for n, _ in seen_batches[:i + 1]) + 1 for i, (_, p) in enumerate(seen_batches))
    assert index_module.EMBED_CHUNK == 256


async def test_stream_errors_name_the_problem(models):
    idx = HybridIndex("stream-bad", Models())

    def dup():
        yield Record("x", "one")
        yield from (Record(f"y{i}", "filler") for i in range(300))
        yield Record("x", "again")

    with pytest.raises(InvalidInputError, match="duplicate id 'x'"):
        idx.add(dup())
    assert idx.count() == 256  # the first chunk was checked and written; nothing was lost
    with pytest.raises(InvalidInputError, match="needs the records as a list"):
        idx.add(iter([Record("z", "t")]), dense=[[1.0]])
    assert await idx.aadd(Record(f"a{i}", "async streamed") for i in range(300)) == [f"a{i}" for i in range(300)]


def test_info_without_comparing_loads_no_model(tmp_path, records):
    """What a collection was made with, read by someone whose models do not load."""
    with HybridIndex("docs", Models(), path=str(tmp_path)) as idx:
        idx.add(records)
        made_with = [v["stored_model"] for v in idx.info()["vectors"]]
    absent = "BAAI/bge-small-en-v1.5"  # fastembed knows it; not in the pack, nor in its cache offline
    with HybridIndex("docs", Models(dense=absent, sparse=None), path=str(tmp_path)) as idx:
        with pytest.raises(ModelNotFoundError, match="not in fastembed's cache"):
            idx.info()
        stored = idx.info(compare=False)
        assert [v["stored_model"] for v in stored["vectors"]] == made_with and stored["count"] == len(records)
        assert {v["configured_model"] for v in stored["vectors"]} == {None} and stored["models"] is None
