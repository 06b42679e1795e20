"""LangChain and LlamaIndex reach the page multivectors (thin adapters over the core), with the
constructed ColPali-shaped model."""

from __future__ import annotations

from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.schema import ImageNode, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery

from hybridstore import Models
from hybridstore.langchain import HybridVectorStore as LangChainStore
from hybridstore.llama_index import HybridEmbedding
from hybridstore.llama_index import HybridVectorStore as LlamaIndexStore


def test_langchain_add_images_and_search_pages(colpali, tmp_path):
    spec, pages = colpali
    models = Models(late_interaction_multimodal=spec)
    with LangChainStore("lc-pages", models=models, path=str(tmp_path / "db")) as store:
        store.add_images(list(pages.values()), ids=list(pages), texts=["annual report page"] * len(pages))
        store.add_texts(["a note about the weather"], ids=["note"])
        found = store.similarity_search("red blue", k=2, mode="pages")
        assert [d.id for d in found] == ["one-red-one-blue", "all-red"]
        assert found[0].metadata == {"image": pages["one-red-one-blue"]}
        fused = store.similarity_search("green annual report", k=4)  # text and pages fused
        assert fused[0].id == "green-corner"
        assert store.similarity_search("weather note", k=1, mode="hybrid")[0].id == "note"


async def test_llama_index_image_nodes_reach_the_page_vectors(colpali, tmp_path):
    spec, pages = colpali
    models = Models(late_interaction_multimodal=spec)
    nodes = [ImageNode(id_=name, text="a scanned page", image_path=path, metadata={"layout": name})
             for name, path in pages.items()] + [TextNode(id_="story", text="The history of dyes.")]
    with LlamaIndexStore("li-pages", models, path=str(tmp_path / "db")) as store:
        index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                                 embed_model=HybridEmbedding(models=models))
        vectors = {v["name"]: v["points"] for v in store.index.info()["vectors"]}
        assert vectors["pages"] == len(pages) and vectors["dense"] == len(pages) + 1
        retriever = index.as_retriever(similarity_top_k=2, vector_store_kwargs={"mode": "pages"})
        found = retriever.retrieve("red blue")
        assert [n.node.node_id for n in found] == ["one-red-one-blue", "all-red"]
        assert isinstance(found[0].node, ImageNode) and found[0].node.image_path == pages["one-red-one-blue"]
        later = await index.as_retriever(similarity_top_k=1, vector_store_kwargs={"mode": "pages"}).aretrieve("green")
        assert later[0].node.node_id == "green-corner"
        text = store.query(VectorStoreQuery(query_str="history of dyes", similarity_top_k=1, mode="hybrid"))
        assert text.nodes[0].node_id == "story"  # (LlamaIndex's own retriever keeps to the ImageNodes it indexed)


async def test_langchain_async_twins_reach_the_pages(colpali, tmp_path):
    spec, pages = colpali
    with LangChainStore("lc-pages", models=Models(late_interaction_multimodal=spec), path=str(tmp_path / "db")) as store:
        await store.aadd_images([pages["green-corner"], pages["blank"]], ids=["g", "b"])
        assert [d.id for d in await store.asimilarity_search("green", k=1, mode="pages")] == ["g"]
