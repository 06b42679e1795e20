"""explain=True through LlamaIndex: retriever and query-engine results carry the explanation in
their node's metadata["_explanation"] (a plain dict; the result's own node: the stored one is
unchanged), left out of what the LLM and the embedding model read; the store's why_not. A
real embedded index ($HYBRIDSTORE_ENGINE)."""

from __future__ import annotations

import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.schema import MetadataMode
from llama_index.core.vector_stores.types import VectorStoreQuery

from hybridstore import Models, explain
from hybridstore.llama_index import HybridEmbedding, HybridVectorStore

from ..conftest import TEXTS

Q = "acoustic guitar on stage"


@pytest.fixture(scope="module")
def built():
    store = HybridVectorStore("explained", Models())
    docs = [Document(text=text, metadata=meta, id_=rid) for rid, (text, meta) in TEXTS.items()]
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=HybridEmbedding())
    yield store, index
    store.close()


def test_retrieved_nodes_carry_the_cores_explanation_out_of_the_prompt(built):
    store, index = built
    found = index.as_retriever(similarity_top_k=2, vector_store_query_mode="hybrid",
                               vector_store_kwargs={"explain": True, "fusion": "rrf"}).retrieve(Q)
    hits = store.index.search(Q, 2, mode="hybrid", fusion="rrf", explain=True,
                              dense_vector=HybridEmbedding().get_query_embedding(Q))
    assert [r.node.node_id for r in found] == [h.record.id for h in hits]
    for r, hit in zip(found, hits, strict=True):
        node = r.node
        assert node.metadata[explain.KEY] == explain.as_dict(hit.explanation)
        assert explain.KEY in node.excluded_llm_metadata_keys and explain.KEY in node.excluded_embed_metadata_keys
        for mode in (MetadataMode.LLM, MetadataMode.EMBED):
            assert "_explanation" not in node.get_content(metadata_mode=mode)
        assert "topic: " in node.get_content(metadata_mode=MetadataMode.LLM)  # the node's own metadata stays
    stored = store.get_nodes([r.node.node_id for r in found])
    assert all(explain.KEY not in n.metadata and not n.excluded_llm_metadata_keys for n in stored)
    plain = index.as_retriever(similarity_top_k=2, vector_store_query_mode="hybrid").retrieve(Q)
    assert all(explain.KEY not in r.node.metadata for r in plain)


async def test_query_engine_sources_carry_it_and_the_prompt_does_not(built):
    _, index = built
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=2, vector_store_query_mode="sparse",
                                   vector_store_kwargs={"explain": True})
    response = engine.query(Q)
    sources = response.source_nodes
    assert [s.node.metadata[explain.KEY]["rank"] for s in sources] == [1, 2]
    assert [b["kind"] for b in sources[0].node.metadata[explain.KEY]["branches"]] == ["sparse"]
    prompt = str(response)  # MockLLM answers with its prompt
    assert "topic: music" in prompt and "_explanation" not in prompt and "fusion" not in prompt
    again = await engine.aquery(Q)
    assert [s.node.metadata for s in again.source_nodes] == [s.node.metadata for s in sources]


async def test_why_not_searches_as_the_query_does(built):
    store, _ = built
    query = VectorStoreQuery(query_str=Q, similarity_top_k=2, mode="sparse")
    top = store.query(query).ids
    assert store.why_not(query, top[0]).rank == 1
    volcano = next(n.node_id for n in store.get_nodes() if n.ref_doc_id == "volcano")  # no query word
    why = await store.awhy_not(query, volcano)
    assert why.rank is None and "not a candidate" in why.reason and len(why.branch_ranks) == 1
    search_options = HybridVectorStore(index=store.index, search_options={"explain": True})
    assert search_options.why_not(query, top[1]).rank == 2
    assert all(explain.KEY in n.metadata for n in search_options.query(query).nodes)


def test_a_retrievers_boost_reaches_the_core_and_its_explanation(built):
    """vector_store_kwargs={"boost": ...}: the core's boosted order, its share in the explanation."""
    store, index = built
    boost = {"match": [({"topic": "finance"}, 50.0)], "factor": {"key": "rating", "missing": 1}}
    found = index.as_retriever(similarity_top_k=3, vector_store_query_mode="hybrid",
                               vector_store_kwargs={"boost": boost, "explain": True}).retrieve(Q)
    hits = store.index.search(Q, 3, mode="hybrid", boost=boost, explain=True,
                              dense_vector=HybridEmbedding().get_query_embedding(Q))
    assert [r.node.node_id for r in found] == [h.record.id for h in hits]
    assert [r.score for r in found] == [h.score for h in hits]
    assert found[0].node.metadata["topic"] == "finance"  # x50: above every guitar note
    assert found[0].node.metadata[explain.KEY]["boost"] == explain.as_dict(hits[0].explanation)["boost"]
    plain = index.as_retriever(similarity_top_k=3, vector_store_query_mode="hybrid").retrieve(Q)
    assert plain[0].node.metadata["topic"] == "music"


def test_a_nodes_own_explanation_key_is_never_overwritten(built):
    """A node stored with metadata["_explanation"]: its explained query is refused (the record
    and the fix named), never overwritten; a plain query returns the user's value."""
    from llama_index.core.schema import TextNode

    from hybridstore import InvalidInputError

    store, _ = built
    node = TextNode(text="An acoustic guitar explained by its owner.", id_="own-key", metadata={"_explanation": "mine"})
    node.embedding = HybridEmbedding().get_text_embedding(node.text)
    store.add([node])
    try:
        with pytest.raises(InvalidInputError, match="'own-key' has its own metadata key '_explanation'"):
            store.query(VectorStoreQuery(query_str=Q, similarity_top_k=8), explain=True)
        found = store.query(VectorStoreQuery(query_str=Q, similarity_top_k=8))
        assert next(n for n in found.nodes if n.node_id == "own-key").metadata["_explanation"] == "mine"
    finally:
        store.delete_nodes(["own-key"])
