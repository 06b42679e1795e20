"""HybridVectorStore inside real LlamaIndex pipelines, and one collection for both frameworks."""

import pytest
from langchain_core.documents import Document as LCDocument
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.schema import IndexNode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery
from qdrant_client import QdrantClient

from hybridstore import ConfigurationError, HybridIndex, Models
from hybridstore.langchain import HybridVectorStore as LCStore
from hybridstore.llama_index import HybridEmbedding, HybridVectorStore
from tests.conftest import TEXTS

MODES = ["default", "sparse", "hybrid", "mmr"]


@pytest.fixture
def built():
    store = HybridVectorStore("pipeline", Models(late_interaction="colbert-ir/colbertv2.0"),
                              search_options={"rerank": False})
    docs = [Document(text=text, metadata=meta, id_=rid) for rid, (text, meta) in TEXTS.items()]
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=HybridEmbedding())
    return store, index


def sources(results):
    return [r.node.ref_doc_id for r in results]


@pytest.mark.parametrize("mode", MODES)
def test_retriever_in_every_mode(built, mode):
    _, index = built
    found = index.as_retriever(similarity_top_k=2, vector_store_query_mode=mode).retrieve(
        "acoustic guitar on stage")
    assert sources(found)[0] == "guitar-2" and len(found) == 2
    assert found[0].node.text == TEXTS["guitar-2"][0] and found[0].node.metadata == TEXTS["guitar-2"][1]


def test_late_interaction_rerank_through_vector_store_kwargs(built):
    _, index = built
    retriever = index.as_retriever(similarity_top_k=2, vector_store_query_mode="hybrid",
                                   vector_store_kwargs={"rerank": True})
    assert set(sources(retriever.retrieve("who plays the guitar"))) == {"guitar-1", "guitar-2"}


def test_query_engine_insert_and_delete_ref_doc(built):
    store, index = built
    response = index.as_query_engine(llm=MockLLM(), similarity_top_k=1).query("volcano ash")
    assert response.source_nodes[0].node.ref_doc_id == "volcano"
    index.insert(Document(text="Penguins live in the southern hemisphere.", id_="penguins"))
    assert sources(index.as_retriever(similarity_top_k=1).retrieve("penguins"))[0] == "penguins"
    index.delete_ref_doc("penguins")
    assert "penguins" not in sources(index.as_retriever(similarity_top_k=3).retrieve("penguins"))
    assert store.index.count() == len(TEXTS)


async def test_async_pipeline_shares_one_store(built):
    store, index = built
    found = await index.as_retriever(similarity_top_k=1, vector_store_query_mode="hybrid").aretrieve("bank rates")
    assert sources(found)[0] in {"rates", "stocks"}
    response = await index.as_query_engine(llm=MockLLM(), similarity_top_k=1, use_async=True).aquery("cats")
    assert response.source_nodes[0].node.ref_doc_id == "cats"
    async_index = VectorStoreIndex.from_documents(
        [Document(text="Koalas eat eucalyptus leaves.", id_="koala")], use_async=True,
        storage_context=StorageContext.from_defaults(vector_store=store), embed_model=HybridEmbedding())
    assert sources(await async_index.as_retriever(similarity_top_k=1).aretrieve("koala food")) == ["koala"]
    assert sources(index.as_retriever(similarity_top_k=1).retrieve("koala food")) == ["koala"]  # sync sees it


def test_nodes_round_trip_with_relationships_and_offsets():
    store = HybridVectorStore("roundtrip")
    node = TextNode(text="Chunk about rivers.", id_="chunk-7", metadata={"page": 3},
                    start_char_idx=120, end_char_idx=139, excluded_llm_metadata_keys=["page"],
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="river-doc"),
                                   NodeRelationship.PREVIOUS: RelatedNodeInfo(node_id="chunk-6")})
    store.add([node])
    back = store.get_nodes(["chunk-7"])[0]
    assert back.model_dump(exclude={"embedding"}) == node.model_dump(exclude={"embedding"})
    hit = store.query(VectorStoreQuery(query_str="rivers", mode="sparse", similarity_top_k=1)).nodes[0]
    assert hit.relationships == node.relationships and hit.start_char_idx == 120


def test_node_classes_and_changed_defaults_round_trip_and_defaults_are_not_stored():
    store = HybridVectorStore("classes")
    plain = TextNode(text="Plain chunk about lakes.", id_="plain")
    templated = TextNode(text="Chunk about seas.", id_="templated", metadata={"page": 1},
                         metadata_template="{key}={value}", text_template="{content}",
                         mimetype="text/markdown")
    pointer = IndexNode(text="Summary of the ocean table.", id_="pointer", index_id="ocean-table")
    store.add([plain, templated, pointer])
    for node in (plain, templated, pointer):
        back = store.get_nodes([node.node_id])[0]
        assert type(back) is type(node)
        assert back.model_dump(exclude={"embedding"}) == node.model_dump(exclude={"embedding"})
    stored = {r.id: r.extras["node_dict"] for r in store.index.get(["plain", "templated"])}
    assert stored["plain"] == {"class_name": "TextNode"}  # every other field is its default
    assert stored["templated"]["metadata_template"] == "{key}={value}"


def test_one_collection_both_frameworks():
    client = QdrantClient(location=":memory:")
    shared = HybridIndex("shared", Models(), client=client)
    lc = LCStore("shared", client=client)
    li = HybridVectorStore(index=shared)
    lc.add_documents([LCDocument(page_content="Written through LangChain about tea.",
                                 metadata={"origin": "lc", "n": 1}, id="from-lc")])
    li.add([TextNode(text="Written through LlamaIndex about coffee.", id_="from-li",
                     metadata={"origin": "li", "tags": ["x"]},
                     relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="li-doc")})])
    node = li.query(VectorStoreQuery(query_str="tea", mode="sparse", similarity_top_k=1)).nodes[0]
    assert (node.node_id, node.text, node.metadata) == ("from-lc", "Written through LangChain about tea.",
                                                         {"origin": "lc", "n": 1})
    doc = lc.similarity_search("coffee", 1, mode="sparse")[0]
    assert (doc.id, doc.page_content, doc.metadata) == ("from-li", "Written through LlamaIndex about coffee.",
                                                        {"origin": "li", "tags": ["x"]})
    assert [d.id for d in lc.get_by_ids(["from-li", "from-lc"])] == ["from-li", "from-lc"]
    li.delete("li-doc")
    assert lc.get_by_ids(["from-li"]) == []


def test_both_frameworks_share_one_index_object(tmp_path, models):
    """An on-disk embedded collection is held by one handle: both stores take it as index=."""
    shared = HybridIndex("both", models, path=str(tmp_path / "db"))
    lc, li = LCStore(index=shared), HybridVectorStore(index=shared)
    assert li.collection_name == "both" and lc.index is shared is li.index
    lc.add_texts(["Green tea is rich in catechins."], [{"origin": "lc"}], ids=["tea"])
    li.add([TextNode(text="Coffee beans are roasted seeds.", id_="coffee", metadata={"origin": "li"})])
    assert [n.node_id for n in li.query(VectorStoreQuery(query_str="catechins in tea", mode="hybrid",
                                                         similarity_top_k=1)).nodes] == ["tea"]
    assert [d.id for d in lc.similarity_search("roasted coffee seeds", 1)] == ["coffee"]
    # an index brings its models and storage: what would be ignored beside it is refused
    for store, extra in ((LCStore, {"models": Models()}), (LCStore, {"embedding": lc.embeddings}),
                         (LCStore, {"path": str(tmp_path / "other")}), (LCStore, {"collection_name": "other"}),
                         (HybridVectorStore, {"embed_model": HybridEmbedding(models=models)}),
                         (HybridVectorStore, {"settings": shared.settings}),
                         (HybridVectorStore, {"collection_name": "other"})):
        with pytest.raises(ConfigurationError, match=r"index="):
            store(index=shared, **extra)
    for name in ("langchain", "other"):  # a name given explicitly, even the default, must be the index's
        with pytest.raises(ConfigurationError, match="given with index="):
            LCStore.from_existing_collection(name, index=shared)
    assert not (tmp_path / "other").exists()
    assert sorted(r.id for r in shared.get()) == ["coffee", "tea"]
    shared.close()


def test_a_shared_index_with_the_callers_own_dense_model(models):
    """A LlamaIndex store built with its own embed_model, read through LangChain: the
    LangChain store has no LangChain Embeddings to show (None), and its retriever works."""
    from langchain_core.embeddings import Embeddings
    from llama_index.core.embeddings import BaseEmbedding

    from hybridstore.langchain import HybridEmbeddings

    class OwnLlama(BaseEmbedding):  # a user's LlamaIndex embedding (the pack's MiniLM inside)
        def _get_query_embedding(self, query):
            return HybridEmbedding().get_query_embedding(query)

        def _get_text_embedding(self, text):
            return HybridEmbedding().get_text_embedding(text)

        async def _aget_query_embedding(self, query):
            return self._get_query_embedding(query)

    class OwnLangChain(Embeddings):
        def embed_documents(self, texts):
            return HybridEmbeddings().embed_documents(texts)

        def embed_query(self, text):
            return HybridEmbeddings().embed_query(text)

    li = HybridVectorStore("own", Models(dense=None), embed_model=OwnLlama())
    li.add([TextNode(text="Green tea is rich in catechins.", id_="tea")])
    lc = LCStore(index=li.index)
    assert lc.embeddings is None
    assert [d.id for d in lc.as_retriever(search_kwargs={"k": 1}).invoke("catechins")] == ["tea"]
    own = OwnLangChain()
    assert LCStore(index=HybridIndex("own2", Models(dense=own))).embeddings is own
