"""The retrieval stacks compared by frameworks.py, each as its users build it.

Every system has `ingest(ids, texts)` and `search(mode, query, k) -> [doc ids]`. All use the
same offline models (all-MiniLM-L6-v2 dense, BM25 sparse, the pack's ColBERT-shaped model) and
qdrant-client's in-memory local mode for the anchors, as their users run them embedded.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastembed import LateInteractionTextEmbedding, SparseTextEmbedding, TextEmbedding
from procs import time_engine
from qdrant_client import QdrantClient
from qdrant_client import models as qm

DENSE, BM25, LATE = "sentence-transformers/all-MiniLM-L6-v2", "Qdrant/bm25", "colbert-ir/colbertv2.0"


def offline_fastembed(pack_root: str) -> None:
    """Anchors name models as their users do; on this air-gapped machine the names resolve to
    the pack's folders (fastembed's own `specific_model_path`), nothing else changes."""
    from hybridstore.inference import load_pack

    pack = load_pack(pack_root)
    for cls in (TextEmbedding, SparseTextEmbedding, LateInteractionTextEmbedding):
        original = cls.__init__

        def init(self, model_name: str = DENSE, *args: Any, _original=original, **kwargs: Any) -> None:
            entry = pack.find(model_name)
            if entry is not None and not kwargs.get("specific_model_path"):
                kwargs["specific_model_path"] = str(entry.folder)
            _original(self, model_name, *args, **kwargs)

        cls.__init__ = init


# -- the floor: fastembed and qdrant-client by hand --------------------------------------------
class Floor:
    modes: tuple[str, ...] = ("dense", "sparse", "hybrid")

    def __init__(self) -> None:
        self.dense, self.sparse = TextEmbedding(DENSE), SparseTextEmbedding(BM25)
        self.client = QdrantClient(":memory:")
        self.client.create_collection("floor", vectors_config={"dense": qm.VectorParams(
            size=384, distance=qm.Distance.COSINE)}, sparse_vectors_config={
            "bm25": qm.SparseVectorParams(modifier=qm.Modifier.IDF)})

    def ingest(self, ids: list[str], texts: list[str]) -> None:
        dense, sparse = list(self.dense.embed(texts)), list(self.sparse.embed(texts))
        points = [qm.PointStruct(id=i, vector={"dense": d.tolist(), "bm25": qm.SparseVector(
            indices=s.indices.tolist(), values=s.values.tolist())}, payload={"doc": doc})
            for i, (doc, d, s) in enumerate(zip(ids, dense, sparse))]
        self.client.upload_points("floor", points, batch_size=256)

    def search(self, mode: str, query: str, k: int) -> list[str]:
        d = next(iter(self.dense.query_embed(query))).tolist()
        s = next(iter(self.sparse.query_embed(query)))
        s = qm.SparseVector(indices=s.indices.tolist(), values=s.values.tolist())
        if mode == "dense":
            kwargs: dict = {"query": d, "using": "dense"}
        elif mode == "sparse":
            kwargs = {"query": s, "using": "bm25"}
        else:
            kwargs = {"prefetch": [qm.Prefetch(query=d, using="dense", limit=k),
                                   qm.Prefetch(query=s, using="bm25", limit=k)],
                      "query": qm.FusionQuery(fusion=qm.Fusion.RRF)}
        points = self.client.query_points("floor", limit=k, with_payload=True, **kwargs).points
        return [p.payload["doc"] for p in points]


# -- hybridstore through its adapters ----------------------------------------------------------
def _loaded_models(late: bool) -> Any:
    """The adapters' models, loaded now so that loading stays outside the ingest timing."""
    from hybridstore import Models

    models = Models(late_interaction=LATE if late else None)
    models.embed_documents(["load the models"], models.kinds())
    return models


class HybridstoreLangChain:
    modes: tuple[str, ...] = ("dense", "sparse", "hybrid", "hybrid-rrf")

    def __init__(self, late: bool = False) -> None:
        from hybridstore.langchain import HybridVectorStore

        models = _loaded_models(late)
        self.modes = ("hybrid+rerank",) if late else self.modes
        self.store = HybridVectorStore("bench", models=models)
        self.engine_ms = time_engine(self.store.index)

    def ingest(self, ids: list[str], texts: list[str]) -> None:
        self.store.add_texts(texts, ids=ids)

    def search(self, mode: str, query: str, k: int) -> list[str]:
        base, options = _options(mode)
        return [d.id for d in self.store.similarity_search(query, k, mode=base, **options)]


class HybridstoreLlamaIndex:
    modes: tuple[str, ...] = ("default", "sparse", "hybrid", "hybrid-rrf")

    def __init__(self, late: bool = False) -> None:
        from hybridstore.llama_index import HybridEmbedding, HybridVectorStore

        models = _loaded_models(late)
        self.modes = ("hybrid+rerank",) if late else self.modes
        self.store = HybridVectorStore("bench", models)
        self.engine_ms = time_engine(self.store.index)
        self.embed = HybridEmbedding(models=models)

    def ingest(self, ids: list[str], texts: list[str]) -> None:
        self.index = _llama_index(self.store, self.embed, ids, texts)

    def search(self, mode: str, query: str, k: int) -> list[str]:
        base, kwargs = _options(mode)
        retriever = self.index.as_retriever(similarity_top_k=k, vector_store_query_mode=base,
                                            vector_store_kwargs=kwargs)
        return [DOC_OF[n.node.node_id] for n in retriever.retrieve(query)]


def _options(mode: str) -> tuple[str, dict]:
    """hybridstore search options of a benchmark mode: "hybrid" is the default fusion (DBSF),
    "hybrid-rrf" fuses by reciprocal rank, "+rerank" reranks the top 100 with late interaction (as `hybridstore eval`)."""
    base, _, rerank = mode.partition("+")
    base, _, fusion = base.partition("-")
    options: dict = {"rerank": True, "oversample": 1, "fetch_k": 100} if rerank else {"rerank": False}
    return base, {**options, **({"fusion": fusion} if fusion else {})}


# -- the anchors, as shipped -------------------------------------------------------------------
class FastEmbedLangChain:
    """What langchain-community's FastEmbedEmbeddings does: fastembed, batches of 256."""

    def __init__(self) -> None:
        self.model = TextEmbedding(DENSE)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [v.tolist() for v in self.model.embed(texts, batch_size=256)]

    def embed_query(self, text: str) -> list[float]:
        return next(iter(self.model.query_embed(text))).tolist()


class LangChainQdrant:
    def __init__(self, hybrid: bool) -> None:
        from langchain_qdrant import FastEmbedSparse, RetrievalMode

        self.modes = ("hybrid",) if hybrid else ("dense",)
        self.mode = RetrievalMode.HYBRID if hybrid else RetrievalMode.DENSE
        self.dense = FastEmbedLangChain()
        self.sparse = FastEmbedSparse(model_name=BM25) if hybrid else None

    def ingest(self, ids: list[str], texts: list[str]) -> None:
        from langchain_core.documents import Document
        from langchain_qdrant import QdrantVectorStore

        docs = [Document(t, metadata={"doc": i}) for i, t in zip(ids, texts)]
        self.store = QdrantVectorStore.from_documents(
            docs, self.dense, location=":memory:", collection_name="bench",
            retrieval_mode=self.mode, sparse_embedding=self.sparse)

    def search(self, mode: str, query: str, k: int) -> list[str]:
        return [d.metadata["doc"] for d in self.store.similarity_search(query, k)]


def _fastembed_llama() -> Any:
    from llama_index.core.embeddings import BaseEmbedding

    class FastEmbedLlama(BaseEmbedding):
        """What llama-index-embeddings-fastembed's FastEmbedEmbedding does (LlamaIndex's
        default embed batch of 10)."""

        def __init__(self) -> None:
            super().__init__(model_name=DENSE)
            self._model = TextEmbedding(DENSE)

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [v.tolist() for v in self._model.passage_embed(texts)]

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_query_embedding(self, query: str) -> list[float]:
            return next(iter(self._model.query_embed(query))).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return FastEmbedLlama()


class LlamaIndexQdrant:
    def __init__(self, hybrid: bool) -> None:
        from llama_index.vector_stores.qdrant import QdrantVectorStore

        self.modes = ("hybrid",) if hybrid else ("default",)
        extra = {"enable_hybrid": True, "fastembed_sparse_model": BM25} if hybrid else {}
        self.store = QdrantVectorStore("bench", client=QdrantClient(":memory:"), **extra)
        self.embed = _fastembed_llama()

    def ingest(self, ids: list[str], texts: list[str]) -> None:
        self.index = _llama_index(self.store, self.embed, ids, texts)

    def search(self, mode: str, query: str, k: int) -> list[str]:
        retriever = self.index.as_retriever(similarity_top_k=k, sparse_top_k=k, hybrid_top_k=k,
                                            vector_store_query_mode=mode)
        return [DOC_OF[n.node.node_id] for n in retriever.retrieve(query)]


class LanceDBLlamaIndex:
    """The embedded peer users pick instead of Qdrant: LanceDB's hybrid search (the same MiniLM
    vectors + LanceDB's native full-text index, fused by its RRF reranker), through
    llama-index-vector-stores-lancedb as its users set it up. The full-text index is built at
    the first hybrid query (the store does it; the warm-up query, outside the timings)."""

    modes: tuple[str, ...] = ("hybrid",)

    def __init__(self) -> None:
        import shutil
        import tempfile
        import weakref

        from lancedb.rerankers import RRFReranker
        from llama_index.vector_stores.lancedb import LanceDBVectorStore

        self.folder = tempfile.mkdtemp(prefix="lancedb-bench-")
        weakref.finalize(self, shutil.rmtree, self.folder, True)  # each run's folder, gone with it
        self.store = LanceDBVectorStore(uri=self.folder, table_name="bench", query_type="hybrid",
                                        reranker=RRFReranker())
        self.embed = _fastembed_llama()

    def ingest(self, ids: list[str], texts: list[str]) -> None:
        self.index = _llama_index(self.store, self.embed, ids, texts)

    def search(self, mode: str, query: str, k: int) -> list[str]:
        retriever = self.index.as_retriever(similarity_top_k=k, vector_store_query_mode=mode)
        return [DOC_OF[n.node.node_id] for n in retriever.retrieve(query)]


def _llama_index(store: Any, embed: Any, ids: list[str], texts: list[str]) -> Any:
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode

    nodes = [TextNode(id_=_node_id(i), text=t) for i, t in zip(ids, texts)]
    return VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                            embed_model=embed)


DOC_OF: dict[str, str] = {}  # node id -> SciFact doc id


def _node_id(doc: str) -> str:
    """Qdrant point ids are UUIDs; llama-index-vector-stores-qdrant uses node ids as they are."""
    node = str(uuid.uuid5(uuid.NAMESPACE_URL, f"scifact/{doc}"))
    DOC_OF[node] = doc
    return node


SYSTEMS = {
    "floor (fastembed + qdrant-client)": Floor,
    "hybridstore / LangChain": HybridstoreLangChain,
    "hybridstore / LangChain + ColBERT": lambda: HybridstoreLangChain(late=True),
    "hybridstore / LlamaIndex": HybridstoreLlamaIndex,
    "hybridstore / LlamaIndex + ColBERT": lambda: HybridstoreLlamaIndex(late=True),
    "langchain-qdrant DENSE": lambda: LangChainQdrant(hybrid=False),
    "langchain-qdrant HYBRID": lambda: LangChainQdrant(hybrid=True),
    "llama-index-qdrant default": lambda: LlamaIndexQdrant(hybrid=False),
    "llama-index-qdrant hybrid": lambda: LlamaIndexQdrant(hybrid=True),
    "LanceDB hybrid (llama-index)": LanceDBLlamaIndex,
}
