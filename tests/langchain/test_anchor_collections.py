"""Collections written by langchain-qdrant, opened and searched by HybridVectorStore."""

from langchain_core.documents import Document
from langchain_qdrant import FastEmbedSparse, QdrantVectorStore, RetrievalMode

from hybridstore import Models, ModelSpec
from hybridstore.langchain import HybridEmbeddings, HybridVectorStore
from tests.conftest import PACK, TEXTS

# langchain-qdrant's defaults: unnamed dense vector, "langchain-sparse" without IDF.
ANCHOR_NAMES = {"dense": "", "sparse": "langchain-sparse"}


def write_with_langchain_qdrant(path, mode):
    sparse = FastEmbedSparse(model_name="Qdrant/bm25", specific_model_path=str(PACK / "bm25"))
    store = QdrantVectorStore.from_documents(
        [Document(page_content=t, metadata=m) for t, m in TEXTS.values()],
        HybridEmbeddings(), path=str(path), collection_name="anchor",
        retrieval_mode=mode, sparse_embedding=sparse if mode != RetrievalMode.DENSE else None)
    store.client.close()


def test_reads_a_langchain_qdrant_hybrid_collection(tmp_path):
    write_with_langchain_qdrant(tmp_path, RetrievalMode.HYBRID)
    models = Models(sparse=ModelSpec("Qdrant/bm25", "sparse", options={"modifier": None}))
    store = HybridVectorStore.from_existing_collection(
        "anchor", models=models, path=str(tmp_path), engine="local", vector_names=ANCHOR_NAMES)
    for mode in ("dense", "sparse", "hybrid"):
        doc = store.similarity_search("acoustic guitar on stage", 1, mode=mode)[0]
        assert doc.page_content == TEXTS["guitar-2"][0] and doc.metadata == TEXTS["guitar-2"][1]
        assert doc.id  # the point's UUID, as langchain-qdrant returns it
    store.add_texts(["A new text about guitars."], ids=["new"])  # and write back in its layout
    assert store.index.count() == len(TEXTS) + 1


def test_reads_a_langchain_qdrant_dense_collection(tmp_path):
    write_with_langchain_qdrant(tmp_path, RetrievalMode.DENSE)
    store = HybridVectorStore.from_existing_collection(
        "anchor", models=Models(sparse=None), path=str(tmp_path), engine="local", vector_names={"dense": ""})
    assert store.similarity_search("volcano", 1)[0].page_content == TEXTS["volcano"][0]
