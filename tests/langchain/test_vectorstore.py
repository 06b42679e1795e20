"""HybridVectorStore beyond the standard suite: options, retrievers, async, bad input."""

import pytest
from langchain_core.documents import Document
from qdrant_client import models as qm

from hybridstore import (
    CollectionNotFoundError,
    FilterError,
    InvalidInputError,
    Models,
    SchemaMismatchError,
)
from hybridstore.langchain import HybridEmbeddings, HybridRetriever, HybridVectorStore
from tests.conftest import TEXTS


def docs():
    return [Document(page_content=text, metadata=dict(meta), id=rid) for rid, (text, meta) in TEXTS.items()]


@pytest.fixture
def store():
    s = HybridVectorStore("lc", models=Models(late_interaction="colbert-ir/colbertv2.0"))
    s.add_documents(docs())
    yield s
    s.index.close()


def ids(documents):
    return [d.id for d in documents]


def test_documents_come_back_with_id_and_exact_metadata(store):
    doc = store.similarity_search("volcano ash", 1)[0]
    assert doc == Document(page_content=TEXTS["volcano"][0], metadata=TEXTS["volcano"][1], id="volcano")
    assert store.get_by_ids(["dogs", "missing"]) == [
        Document(page_content=TEXTS["dogs"][0], metadata=TEXTS["dogs"][1], id="dogs")]


@pytest.mark.parametrize("options", [{"mode": "dense"}, {"mode": "sparse"}, {"mode": "hybrid"},
                                     {"mode": "hybrid", "rerank": True}, {"fusion": "dbsf", "rerank": False},
                                     {"weights": (0.8, 0.2), "rrf_k": 10, "rerank": False}])
def test_search_options_reach_the_core(store, options):
    found = store.similarity_search("who plays the guitar", 2, **options)
    assert set(ids(found)) == {"guitar-1", "guitar-2"}


def test_filters_dict_and_raw(store):
    found = store.similarity_search("anything", 8, filter={"year": {"$gte": 2022}}, mode="dense")
    assert set(ids(found)) == {"piano", "rates", "dogs"}
    raw = qm.Filter(must=[qm.FieldCondition(key="metadata.topic", match=qm.MatchValue(value="animals"))])
    assert set(ids(store.similarity_search("anything", 8, filter=raw))) == {"cats", "dogs"}
    with pytest.raises(FilterError, match="unknown operator '\\$like'"):
        store.similarity_search("x", filter={"topic": {"$like": "a"}})


def test_scores_and_relevance(store):
    scored = store.similarity_search_with_score("guitar", 3, mode="dense", rerank=False)
    assert all(-1 <= s <= 1 for _, s in scored)
    for options in ({"mode": "dense"}, {"mode": "sparse"}, {"mode": "hybrid"}, {}):
        rel = store.similarity_search_with_relevance_scores("guitar on stage", 4, **options)
        assert all(0 <= r <= 1 for _, r in rel) and rel[0][0].id.startswith("guitar")
    thresholded = store.similarity_search_with_relevance_scores(
        "guitar", 8, mode="dense", rerank=False, score_threshold=0.7)
    assert thresholded and all(r >= 0.7 for _, r in thresholded) and len(thresholded) < 8


def test_mmr_lambda_one_is_pure_relevance(store):
    plain = store.similarity_search("guitar music", 4, mode="dense", rerank=False)
    assert ids(store.max_marginal_relevance_search("guitar music", 4, lambda_mult=1.0)) == ids(plain)
    diverse = store.max_marginal_relevance_search("guitar music", 4, fetch_k=8, lambda_mult=0.0)
    assert ids(diverse) != ids(plain)


def test_search_by_vector(store):
    vector = HybridEmbeddings().embed_query("volcano ash")
    assert ids(store.similarity_search_by_vector(vector, 1)) == ["volcano"]
    assert ids(store.max_marginal_relevance_search_by_vector(vector, 1, lambda_mult=1.0)) == ["volcano"]
    with pytest.raises(InvalidInputError, match="dense-only"):
        store.similarity_search_by_vector(vector, 1, mode="sparse")


@pytest.mark.parametrize("search_type, kwargs", [
    ("similarity", {"k": 2, "mode": "hybrid"}),
    ("mmr", {"k": 2, "fetch_k": 8, "lambda_mult": 0.9}),
    ("similarity_score_threshold", {"k": 2, "score_threshold": 0.1}),
])
async def test_as_retriever_search_types(store, search_type, kwargs):
    retriever = store.as_retriever(search_type=search_type, search_kwargs=kwargs)
    found = retriever.invoke("acoustic guitar on stage")
    assert len(found) == 2 and found[0].id == "guitar-2"
    assert ids(await retriever.ainvoke("acoustic guitar on stage")) == ids(found)


def test_unknown_search_type():
    with pytest.raises(ValueError, match="search_type of bogus not allowed"):
        HybridVectorStore("x").as_retriever(search_type="bogus")


def test_hybrid_retriever_options(store):
    r = HybridRetriever(store=store, k=3, search_kwargs={"filter": {"topic": "finance"}})
    assert set(ids(r.invoke("money"))) == {"stocks", "rates"}
    assert len(r.invoke("money", k=1)) == 1


def test_own_embeddings_add_the_core_sparse_vectors():
    store = HybridVectorStore("own", embedding=HybridEmbeddings())
    store.add_documents(docs())
    assert [v["name"] for v in store.index.info()["vectors"]] == ["dense", "sparse"]
    assert ids(store.similarity_search("guitar on stage", 1, mode="sparse")) == ["guitar-2"]
    assert store.embeddings is not None


def test_caller_documents_are_not_mutated_and_ids_generated():
    store = HybridVectorStore("gen")
    originals = [Document(page_content="alpha text"), Document(page_content="beta text", id="b")]
    new_ids = store.add_documents(originals)
    assert originals == [Document(page_content="alpha text"), Document(page_content="beta text", id="b")]
    assert new_ids[1] == "b" and len(new_ids[0]) == 36
    assert len(store.add_texts(["gamma text"])) == 1 and store.index.count() == 3


@pytest.mark.parametrize("call, words", [
    (lambda s: s.add_texts(["a", "b"], metadatas=[{}]), "2 texts but 1 metadatas"),
    (lambda s: s.add_texts(["a", "b"], ids=["1"]), "2 texts but 1 ids"),
    (lambda s: s.add_texts(["a"], ids=[7]), "ids must be strings"),
    (lambda s: s.add_texts("abc"), "not one string"),
    (lambda s: s.add_texts(["a"], colour="red"), "unknown options"),
    (lambda s: s.add_texts([""]), "text is empty"),
])
def test_bad_input_before_any_write(store, call, words):
    with pytest.raises(InvalidInputError, match=words):
        call(store)
    assert store.index.count() == len(TEXTS)


def test_embedding_size_must_match_existing_collection(tmp_path):
    HybridVectorStore("sized", path=str(tmp_path)).index.close()  # 384-d dense from the pack

    class Small(HybridEmbeddings):
        def embed_documents(self, texts):
            return [v[:8] for v in super().embed_documents(texts)]

        def embed_query(self, text):
            return super().embed_query(text)[:8]

    with pytest.raises(SchemaMismatchError, match="'dense'.*size=384.*size=8"):
        HybridVectorStore("sized", embedding=Small(), models=Models(dense=None), path=str(tmp_path))


def test_from_existing_collection(tmp_path):
    with pytest.raises(CollectionNotFoundError):
        HybridVectorStore.from_existing_collection("nothing-here", path=str(tmp_path))
    store = HybridVectorStore.from_texts(["kept text"], collection_name="kept", path=str(tmp_path))
    store.index.close()
    again = HybridVectorStore.from_existing_collection("kept", path=str(tmp_path))
    assert again.similarity_search("kept", 1)[0].page_content == "kept text"


async def test_async_never_uses_an_executor(monkeypatch):
    from langchain_core.vectorstores import base

    def forbidden(*args, **kwargs):
        raise AssertionError("a whole sync method was wrapped in an executor")

    monkeypatch.setattr(base, "run_in_executor", forbidden)
    store = await HybridVectorStore.afrom_texts(["alpha one", "beta two"], ids=["a", "b"],
                                                collection_name="async-lc")
    await store.aadd_documents([Document(page_content="gamma three", id="c")])
    assert ids(await store.asimilarity_search("gamma", 1)) == ["c"]
    assert (await store.asimilarity_search_with_score("gamma", 1))[0][0].id == "c"
    assert (await store.asimilarity_search_with_relevance_scores("gamma", 1))[0][1] > 0
    vector = await HybridEmbeddings().aembed_query("beta")
    assert ids(await store.asimilarity_search_by_vector(vector, 1)) == ["b"]
    assert ids(await store.amax_marginal_relevance_search("alpha", 1)) == ["a"]
    assert ids(await store.amax_marginal_relevance_search_by_vector(vector, 1)) == ["b"]
    assert ids(await store.aget_by_ids(["a", "zz"])) == ["a"]
    await store.adelete(["a"])
    assert await store.aget_by_ids(["a"]) == []


def test_add_texts_streams_a_generator_in_bounded_chunks():
    produced = 0

    def texts():
        nonlocal produced
        for i in range(600):
            produced += 1
            yield f"streamed text number {i}"

    store = HybridVectorStore("lc-stream", models=Models())
    seen: list[tuple[int, int]] = []
    real_add = store.index.add
    store.index.add = lambda records, **kw: real_add(records, progress=lambda n: seen.append((n, produced)))
    ids = store.add_texts(texts(), metadatas=({"n": i} for i in range(600)))
    assert len(ids) == 600 and store.index.count() == 600
    assert [n for n, _ in seen] == [256, 256, 88]
    assert seen[0][1] <= 257  # the first chunk was written before the generator ran on
    assert store.get_by_ids([ids[599]])[0].metadata == {"n": 599}
    with pytest.raises(InvalidInputError, match="more metadatas or ids than texts"):
        store.add_texts((t for t in ["a b", "c d"]), metadatas=iter([{}, {}, {}]))


def test_from_documents_needs_no_embedding():
    """The store brings its models: LangChain's from_documents / afrom_documents take no
    embedding here (LangChain's own signature requires one)."""
    import asyncio

    docs = [Document(page_content="Green tea is rich in catechins.", metadata={"n": 1}, id="tea"),
            Document(page_content="Coffee beans are roasted seeds.")]
    store = HybridVectorStore.from_documents(docs, collection_name="docs")
    assert [d.id for d in store.similarity_search("catechins", 1)] == ["tea"]
    assert store.index.count() == 2
    other = asyncio.run(HybridVectorStore.afrom_documents(docs, collection_name="adocs"))
    assert [d.metadata for d in other.similarity_search("catechins", 1)] == [{"n": 1}]
