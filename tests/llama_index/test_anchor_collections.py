"""Collections written by llama-index-vector-stores-qdrant, opened and queried by hybridstore."""

import uuid

import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.vector_stores.types import VectorStoreQuery
from llama_index.vector_stores.qdrant import QdrantVectorStore
from qdrant_client import QdrantClient

from hybridstore import Models, ModelSpec
from hybridstore.llama_index import HybridEmbedding, HybridVectorStore
from tests.conftest import TEXTS


def bm25_fn(kind):
    """llama-index-vector-stores-qdrant's sparse callables, over the pack's BM25."""
    sparse = Models(dense=None).sparse

    def encode(texts):
        vectors = sparse.embed_documents(texts) if kind == "doc" else sparse.embed_queries(texts)
        return [v.indices.tolist() for v in vectors], [v.values.tolist() for v in vectors]
    return encode


def write_with_llama_qdrant(path, hybrid):
    client = QdrantClient(path=str(path))
    extra = {"enable_hybrid": True, "sparse_doc_fn": bm25_fn("doc"), "sparse_query_fn": bm25_fn("query")} \
        if hybrid else {}
    store = QdrantVectorStore("anchor", client=client, **extra)
    docs = [Document(text=text, metadata=meta, id_=rid) for rid, (text, meta) in TEXTS.items()]
    VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store),
                                    embed_model=HybridEmbedding())
    client.close()


@pytest.mark.parametrize("hybrid", [False, True])
def test_opens_and_queries_its_collection(tmp_path, hybrid):
    write_with_llama_qdrant(tmp_path, hybrid)
    probe = QdrantClient(path=str(tmp_path))
    vectors = probe.get_collection("anchor").config.params.vectors
    dense_name = next(iter(vectors)) if isinstance(vectors, dict) else ""
    probe.close()
    names = {"dense": dense_name, "sparse": "text-sparse-new"}
    sparse = ModelSpec("Qdrant/bm25", "sparse", options={"modifier": None}) if hybrid else None
    # the anchors wrote with qdrant-client's local mode: open its files with the same engine
    store = HybridVectorStore("anchor", Models(sparse=sparse), path=str(tmp_path), engine="local",
                              vector_names=names, payload_layout="llama_index")
    store.index.open()
    embed = HybridEmbedding()
    modes = ["default", "sparse", "hybrid"] if hybrid else ["default"]
    for mode in modes:
        result = store.query(VectorStoreQuery(query_str="acoustic guitar on stage", similarity_top_k=1,
                                              query_embedding=embed.get_query_embedding("acoustic guitar on stage"),
                                              mode=mode))
        node = result.nodes[0]
        assert node.ref_doc_id == "guitar-2"
        assert node.text == TEXTS["guitar-2"][0] and node.metadata == TEXTS["guitar-2"][1]
    assert store.index.count({"topic": "music"}) == 3  # flat metadata filters work in its layout
    back = str(uuid.uuid4())  # LlamaIndex node ids are UUIDs: the point id is the node id
    store.add([Document(text="Written back in its own layout.", id_=back)])
    store.index.close()
    client = QdrantClient(path=str(tmp_path))
    theirs = QdrantVectorStore("anchor", client=client)
    assert [n.get_content() for n in theirs.get_nodes(node_ids=[back])] == ["Written back in its own layout."]
    client.close()
