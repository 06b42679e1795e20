"""`HybridVectorStore`: a LlamaIndex vector store over `HybridIndex`. It translates nodes,
MetadataFilters and VectorStoreQuery to the core and back, and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode, MetadataMode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryResult,
)

from ..closing import ClosesIndex
from ..engine import Engine
from ..errors import ConfigurationError, SchemaMismatchError
from ..image_sources import source
from ..index import HybridIndex
from ..inference import Embedder, Models
from ..inference.external import External
from ..records import Hit, Record
from ..settings import Settings
from ..stores import store_index
from ..whynot import WhyNot
from .convert import explained, search_args, to_filter, to_node, to_record
from .images import check_image_embeddings

# One model embedding the node (with or without its metadata) agrees above 0.9; two models'
# unrelated spaces sit near 0.
SAME_MODEL_COSINE = 0.8


class HybridVectorStore(ClosesIndex, BasePydanticVectorStore):
    """Dense + sparse (+ late-interaction) retrieval on one Qdrant collection.

    Nodes keep their own dense embedding (from the index's ``embed_model``); hybridstore adds
    the sparse and late-interaction vectors. ``embed_model``: the LlamaIndex embedding that
    makes those dense vectors, when it is not hybridstore's own dense model (``models``'
    dense, which ``HybridEmbedding()`` wraps): the collection records it, and nodes without an
    embedding are embedded with it. Query modes: DEFAULT (dense), SPARSE, HYBRID (``alpha``
    weights the fusion: 1 = dense only), MMR (``mmr_threshold`` = lambda); a DEFAULT query
    takes ``mode`` from the options (e.g. ``"pages"``: ImageNodes' page multivectors, with
    ``Models(late_interaction_multimodal=...)``; ``"multimodal"``: fused with the text).
    ``search_options``: defaults for every query (``rerank``, ``fusion``, ``rrf_k``, ...);
    ``vector_store_kwargs`` of a retriever override them per query.
    Storage as ``HybridIndex``: ``location=":memory:"`` (default), ``path=``, ``url=``,
    ``client=``, or an existing ``index=`` (e.g. shared with the LangChain adapter).
    ``explain=True`` (in ``search_options`` or a retriever's ``vector_store_kwargs``): each
    result node carries how it ranked in ``metadata["_explanation"]`` (docs/explain.md);
    ``why_not(query, node_id)`` says why a node is not among the results.
    Close it with ``close()`` / ``aclose()`` or use it in a ``with`` block. ``tenant``: confine
    the store (and its retrievers and query engines) to one tenant (with ``tenant_key=``).
    """

    stores_text: bool = True
    flat_metadata: bool = False
    collection_name: str

    _index: HybridIndex = PrivateAttr()
    _search_options: dict[str, Any] = PrivateAttr()
    _checked: bool = PrivateAttr(default=False)
    _images: bool = PrivateAttr(default=False)  # the image view: see `images()`

    def __init__(self, collection_name: str | None = None, models: Models | None = None, *,
                 embed_model: External | None = None, index: HybridIndex | None = None,
                 search_options: dict[str, Any] | None = None, settings: Settings | None = None,
                 tenant: str | None = None, **options: Any) -> None:
        # pydantic takes this class's fields; mypy types the base's __init__ with the base's alone
        super().__init__(collection_name=index.collection if index else collection_name or "llama_index")  # type: ignore[call-arg]
        if embed_model is not None and index is None:
            if models is not None and models.dense is not None:
                raise ConfigurationError(
                    "give the dense model once: embed_model= or Models(dense=...), not both "
                    "(use Models(dense=None, ...) with embed_model=)")
            models = models.with_dense(embed_model) if models else Models(dense=embed_model)
        self._index = store_index(index, collection_name, "llama_index", models, settings, tenant,
                                  options, embed_model=embed_model)
        self._search_options = dict(search_options or {})

    @classmethod
    def class_name(cls) -> str:
        return "HybridVectorStore"

    @property
    def client(self) -> Engine:
        return self._index.engine

    @property
    def index(self) -> HybridIndex:
        return self._index

    def images(self) -> HybridVectorStore:
        """The image view of this store's collection, for ``MultiModalVectorStoreIndex``
        (``StorageContext.from_defaults(vector_store=store, image_store=store.images())``): it
        adds image nodes not stored yet and queries the image vector (text to image with the
        index's ``HybridImageEmbedding``, or image to image)."""
        view = HybridVectorStore(index=self._index)  # the text store's options are for text searches
        view._images = True
        return view

    # -- writing -------------------------------------------------------------------------------
    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        if self._images:
            check_image_embeddings(self._index.models, list(nodes))
            return self._index.add(self._new(nodes, self._index.get([n.node_id for n in nodes])))
        self._check_embeddings(nodes)
        return self._index.add(self._records(nodes), dense=_embeddings(nodes))

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        if self._images:
            await asyncio.to_thread(check_image_embeddings, self._index.models, list(nodes))
            return await self._index.aadd(self._new(nodes, await self._index.aget([n.node_id for n in nodes])))
        await asyncio.to_thread(self._check_embeddings, nodes)
        return await self._index.aadd(self._records(nodes), dense=_embeddings(nodes))

    def _records(self, nodes: Sequence[BaseNode]) -> list[Record]:
        return [to_record(n, self._index.models.reads_images) for n in nodes]

    @staticmethod
    def _new(nodes: Sequence[BaseNode], stored: list[Record]) -> list[Record]:
        """The image view's records, without the nodes the text store just wrote with this
        image (it wrote their image vector too, and their dense vector is the text store's
        to give: these nodes carry image embeddings). Images without text are the view's own."""
        written = {r.id: (r.text, r.metadata, r.doc_id, r.image) for r in stored if r.text.strip()}
        records = [to_record(n, images=True) for n in nodes]
        return [r for r in records if r.image is None or
                written.get(r.id) != (r.text, r.metadata, r.doc_id, source(r.image))]

    def _check_embeddings(self, nodes: Sequence[BaseNode]) -> None:
        """Once per store: nodes' own embeddings must come from the dense model the collection
        records (re-embedding one node tells), or vector spaces would mix silently."""
        node = next((n for n in nodes if n.embedding is not None), None)
        dense = self._index.models.dense
        if self._checked or node is None or not isinstance(dense, Embedder):
            return
        texts = [node.get_content(metadata_mode=mode) for mode in (MetadataMode.EMBED, MetadataMode.NONE)]
        ours = np.asarray(dense.embed_documents(texts))
        theirs = np.asarray(node.embedding, dtype=float)
        if ours.shape[1:] == theirs.shape:  # other sizes: the core's size check names them
            cosine = float(np.max(ours @ theirs) / (np.linalg.norm(ours[0]) * np.linalg.norm(theirs) or 1.0))
            if cosine < SAME_MODEL_COSINE:
                raise SchemaMismatchError(
                    f"node {node.node_id!r} carries an embedding that this store's dense model "
                    f"{dense.name!r} does not make (cosine {cosine:.2f} to its own): one "
                    "collection must hold one model's vectors. Tell the store which model made "
                    "them: HybridVectorStore(..., embed_model=<that model>, models=Models(dense="
                    "None)), or embed with HybridEmbedding() (this store's model)")
        self._checked = True

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
        """Delete every node: the collection, or on a tenant's store that tenant's records."""
        self._index.drop() if self._index.tenant_name is None else self._index.drop_tenant()

    async def aclear(self) -> None:
        await (self._index.adrop() if self._index.tenant_name is None else self._index.adrop_tenant())

    # -- reading -------------------------------------------------------------------------------
    def get_nodes(self, node_ids: list[str] | None = None,
                  filters: MetadataFilters | None = None) -> list[BaseNode]:
        return [to_node(r) for r in self._index.get(node_ids, filter=to_filter(filters))]

    async def aget_nodes(self, node_ids: list[str] | None = None,
                         filters: MetadataFilters | None = None) -> list[BaseNode]:
        return [to_node(r) for r in await self._index.aget(node_ids, filter=to_filter(filters))]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        text, k, options = search_args(query, {**self._search_options, **kwargs}, self._images)
        return _result(self._index.search(text, k, missing_ok=True, **options))  # none yet: []

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        text, k, options = search_args(query, {**self._search_options, **kwargs}, self._images)
        return _result(await self._index.asearch(text, k, missing_ok=True, **options))

    def why_not(self, query: VectorStoreQuery, node_id: str, **kwargs: Any) -> WhyNot:
        """Where node `node_id` stands for `query` (searched as `query` searches it, with the
        store's search options and `kwargs`), and the first reason it is not in the top
        ``similarity_top_k`` (docs/explain.md)."""
        text, k, options = self._unexplained(query, kwargs)
        return self._index.why_not(text, node_id, k, **options)

    async def awhy_not(self, query: VectorStoreQuery, node_id: str, **kwargs: Any) -> WhyNot:
        text, k, options = self._unexplained(query, kwargs)
        return await self._index.awhy_not(text, node_id, k, **options)

    def _unexplained(self, query: VectorStoreQuery, kwargs: dict[str, Any]) -> tuple[str, int, dict[str, Any]]:
        """`query`'s search as `query()` runs it, for `why_not` (which explains unasked)."""
        options = {k: v for k, v in {**self._search_options, **kwargs}.items() if k != "explain"}
        return search_args(query, options, self._images)


def _embeddings(nodes: Sequence[BaseNode]) -> list[list[float] | None] | None:
    vectors = [n.embedding for n in nodes]
    return None if all(v is None for v in vectors) else vectors


def _result(hits: list[Hit]) -> VectorStoreQueryResult:
    return VectorStoreQueryResult(nodes=[explained(to_node(h.record), h.explanation) for h in hits],
                                  similarities=[h.score for h in hits],
                                  ids=[h.record.id for h in hits])
