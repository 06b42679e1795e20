"""`HybridVectorStore`: a LlamaIndex vector store over `HybridIndex`. It translates nodes,
MetadataFilters and VectorStoreQuery to the core and back, and nothing else."""

from __future__ import annotations

from typing import Any, Sequence

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryResult,
)

from ..index import HybridIndex
from ..inference import Models
from ..records import Hit
from .convert import search_args, to_filter, to_node, to_record


class HybridVectorStore(BasePydanticVectorStore):
    """Dense + sparse (+ late-interaction) retrieval on one Qdrant collection.

    Nodes keep their own dense embedding (from the index's ``embed_model``); hybridstore adds
    the sparse and late-interaction vectors. Query modes: DEFAULT (dense), SPARSE, HYBRID
    (``alpha`` weights the fusion: 1 = dense only), MMR (``mmr_threshold`` = lambda).
    ``search_options``: defaults for every query (``rerank``, ``fusion``, ``rrf_k``, ...);
    ``vector_store_kwargs`` of a retriever override them per query.
    Storage as ``HybridIndex``: ``location=":memory:"`` (default), ``path=``, ``url=``,
    ``client=``, or an existing ``index=`` (e.g. shared with the LangChain adapter).
    """

    stores_text: bool = True
    flat_metadata: bool = False
    collection_name: str

    _index: HybridIndex = PrivateAttr()
    _search_options: dict = PrivateAttr()

    def __init__(self, collection_name: str = "llama_index", models: Models | None = None, *,
                 index: HybridIndex | None = None, search_options: dict[str, Any] | None = None,
                 **index_options: Any) -> None:
        super().__init__(collection_name=index.collection if index else collection_name)
        self._index = index or HybridIndex(collection_name, models, **index_options)
        self._search_options = dict(search_options or {})

    @classmethod
    def class_name(cls) -> str:
        return "HybridVectorStore"

    @property
    def client(self) -> Any:
        return self._index.engine

    @property
    def index(self) -> HybridIndex:
        return self._index

    # -- writing -------------------------------------------------------------------------------
    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        return self._index.add([to_record(n) for n in nodes], dense=_embeddings(nodes))

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        return await self._index.aadd([to_record(n) for n in nodes], dense=_embeddings(nodes))

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        self._index.delete(doc_id=ref_doc_id)

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        await self._index.adelete(doc_id=ref_doc_id)

    def delete_nodes(self, node_ids: list[str] | None = None,
                     filters: MetadataFilters | None = None, **delete_kwargs: Any) -> None:
        if node_ids is not None or filters is not None:
            self._index.delete(node_ids, filter=to_filter(filters))

    async def adelete_nodes(self, node_ids: list[str] | None = None,
                            filters: MetadataFilters | None = None, **delete_kwargs: Any) -> None:
        if node_ids is not None or filters is not None:
            await self._index.adelete(node_ids, filter=to_filter(filters))

    def reembed(self, **kwargs: Any) -> dict[str, int]:
        """Embed the stored texts into the vectors of models added since they were written, in
        place and resumably (`HybridIndex.reembed`)."""
        return self._index.reembed(**kwargs)

    async def areembed(self, **kwargs: Any) -> dict[str, int]:
        return await self._index.areembed(**kwargs)

    def clear(self) -> None:
        self._index.drop()

    async def aclear(self) -> None:
        await self._index.adrop()

    # -- reading -------------------------------------------------------------------------------
    def get_nodes(self, node_ids: list[str] | None = None,
                  filters: MetadataFilters | None = None) -> list[BaseNode]:
        return [to_node(r) for r in self._index.get(node_ids, filter=to_filter(filters))]

    async def aget_nodes(self, node_ids: list[str] | None = None,
                         filters: MetadataFilters | None = None) -> list[BaseNode]:
        return [to_node(r) for r in await self._index.aget(node_ids, filter=to_filter(filters))]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        text, k, options = search_args(query, {**self._search_options, **kwargs})
        return _result(self._index.search(text, k, **options))

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        text, k, options = search_args(query, {**self._search_options, **kwargs})
        return _result(await self._index.asearch(text, k, **options))


def _embeddings(nodes: Sequence[BaseNode]) -> list | None:
    vectors = [n.embedding for n in nodes]
    return None if all(v is None for v in vectors) else vectors


def _result(hits: list[Hit]) -> VectorStoreQueryResult:
    return VectorStoreQueryResult(nodes=[to_node(h.record) for h in hits],
                                  similarities=[h.score for h in hits],
                                  ids=[h.record.id for h in hits])
