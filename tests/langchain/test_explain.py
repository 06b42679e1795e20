"""explain=True through LangChain: each returned Document carries its explanation, a plain dict,
in metadata["_explanation"] (LangChain stores' own convention for result-only keys, as
langchain-qdrant's "_id"), the stored metadata untouched; retrievers pass it through
search_kwargs; the store's why_not. A real embedded index ($HYBRIDSTORE_ENGINE)."""

from __future__ import annotations

import json

import pytest

from hybridstore import InvalidInputError, Models, explain
from hybridstore.langchain import HybridRetriever, HybridVectorStore

from ..conftest import TEXTS

Q = "guitar music on the street"


@pytest.fixture(scope="module")
def store():
    s = HybridVectorStore("explained", models=Models())
    s.add_texts([t for t, _ in TEXTS.values()], [m for _, m in TEXTS.values()], ids=list(TEXTS))
    yield s
    s.close()


def explanations(docs):
    return [d.metadata[explain.KEY] for d in docs]


def test_scored_documents_carry_the_cores_explanation(store):
    found = store.similarity_search_with_score(Q, 3, explain=True, fusion="rrf")
    hits = store.index.search(Q, 3, explain=True, fusion="rrf")
    assert [d.id for d, _ in found] == [h.record.id for h in hits]
    for (doc, score), hit in zip(found, hits, strict=True):
        assert score == hit.score and doc.metadata[explain.KEY] == explain.as_dict(hit.explanation)
        assert {k: v for k, v in doc.metadata.items() if k != explain.KEY} == TEXTS[doc.id][1]
        json.dumps(doc.metadata)  # plain values
    first = found[0][0].metadata[explain.KEY]
    assert first["rank"] == 1 and [b["kind"] for b in first["branches"]] == ["dense", "sparse"]
    assert first["fusion"]["method"] == "rrf"


def test_nothing_stored_changes_and_plain_searches_carry_nothing(store):
    store.similarity_search(Q, 2, explain=True)
    assert all(explain.KEY not in d.metadata for d in store.similarity_search(Q, 3))
    assert [d.metadata for d in store.get_by_ids(list(TEXTS))] == [m for _, m in TEXTS.values()]


async def test_retrievers_pass_explain_through_search_kwargs(store):
    via_store = store.as_retriever(search_kwargs={"k": 2, "explain": True, "fusion": "dbsf"})
    sync = via_store.invoke(Q)
    assert [e["rank"] for e in explanations(sync)] == [1, 2]
    assert explanations(await via_store.ainvoke(Q)) == explanations(sync)
    batch = [explanations(docs) for docs in via_store.batch([Q, "interest rates"])]
    assert batch == [explanations(sync), explanations(via_store.invoke("interest rates"))]
    relevance = store.as_retriever(search_type="similarity_score_threshold",
                                   search_kwargs={"k": 2, "explain": True, "score_threshold": 0.0})
    assert [e["relevance"] for e in explanations(relevance.invoke(Q))] == \
        [h.relevance for h in store.index.search(Q, 2, fusion="dbsf")]
    own = HybridRetriever(store=store, k=2, search_kwargs={"explain": True, "fusion": "dbsf"})
    assert explanations(own.invoke(Q)) == explanations(sync)


async def test_why_not_on_the_store(store):
    top = store.similarity_search(Q, 2)
    assert store.why_not(Q, top[1].id, 2).rank == 2
    out = next(i for i in TEXTS if i not in {d.id for d in top})
    why = await store.awhy_not(Q, out, 2, fusion="rrf", rerank=False)
    assert why.rank is None and why.reason and why.explanation is not None
    assert store.why_not(Q, "guitar-1", 2, filter={"topic": "finance"}).reason.startswith("filtered out")


def test_explain_with_mmr_states_the_pick(store):
    docs = store.max_marginal_relevance_search(Q, 2, explain=True)
    hits = store.index.search(Q, 2, explain=True, mmr=0.5, fetch_k=20, rerank=False)
    assert [d.id for d in docs] == [h.record.id for h in hits]
    assert [e["mmr"] for e in explanations(docs)] == [explain.as_dict(h.explanation)["mmr"] for h in hits]
    assert explanations(docs)[1]["mmr"]["change"] == hits[1].explanation.mmr.change


def test_a_retrievers_boost_reaches_the_core_and_its_explanation(store):
    """search_kwargs={"boost": ...}: the core's boosted order, its share in the explanation."""
    boost = {"match": [({"topic": "animals"}, 50.0)]}
    docs = store.as_retriever(search_kwargs={"k": 3, "boost": boost, "explain": True}).invoke(Q)
    hits = store.index.search(Q, 3, boost=boost, explain=True)
    assert [d.id for d in docs] == [h.record.id for h in hits] and docs[0].metadata["topic"] == "animals"
    assert explanations(docs)[0]["boost"]["factors"][0]["applied"] is True
    assert store.as_retriever(search_kwargs={"k": 3}).invoke(Q)[0].metadata["topic"] == "music"


def test_a_users_own_explanation_key_is_never_overwritten(store):
    """A document whose stored metadata holds "_explanation" (the key explain=True uses): its
    explained search is refused naming the record and the fix; the stored value is intact, and
    searches without explain=True return it as it is."""
    store.add_texts(["A guitar explained by its owner."], [{"_explanation": "mine"}], ids=["own-key"])
    try:
        with pytest.raises(InvalidInputError, match="'own-key' has its own metadata key '_explanation'"):
            store.similarity_search("guitar explained by its owner", 8, explain=True)
        doc = next(d for d in store.similarity_search("guitar explained by its owner", 8) if d.id == "own-key")
        assert doc.metadata == {"_explanation": "mine"}
    finally:
        store.delete(["own-key"])
