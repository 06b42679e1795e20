"""`HybridVectorStore`: a LangChain VectorStore over `HybridIndex`. It translates LangChain
types to Record / search options and back, and nothing else."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Self

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore, VectorStoreRetriever

from .. import explain
from ..closing import ClosesIndex
from ..errors import ConfigurationError, InvalidInputError
from ..index import HybridIndex
from ..inference import Models
from ..inference.external import ExternalDense
from ..records import Hit, Record
from ..settings import Settings
from ..stores import store_index
from ..whynot import WhyNot
from .embeddings import HybridEmbeddings
from .images import by_image, image_filter, image_records, shown, with_image
from .retriever import HybridRetriever, HybridStoreRetriever


class HybridVectorStore(ClosesIndex, VectorStore):
    """Dense + sparse (+ late-interaction) search on one Qdrant collection.

    ``embedding``: any LangChain ``Embeddings`` for the dense vectors (then ``models`` supplies
    only sparse / late interaction); without it the dense model comes from ``models``
    (default ``Models()``: the pack's dense + BM25). Storage as ``HybridIndex``:
    ``location=":memory:"`` (default), ``path=``, ``url=`` + ``api_key=``, ``client=``, or an
    existing ``index=`` (e.g. shared with the LlamaIndex adapter in the same process).
    ``tenant``: confine the store (and its retrievers) to one tenant (with ``tenant_key=``).

    Images: with an image model (``Models(image=...)``), ``add_images`` and
    ``similarity_search_by_image``; text searches then fuse the image vector too (mode
    "multimodal"; "image" searches it alone). With a page model
    (``Models(late_interaction_multimodal=...)``), ``add_images`` also stores page multivectors:
    ``mode="pages"`` searches them alone, the default fuses them with the text vectors.

    Every search method takes the core's options: ``mode`` ("dense", "sparse", "hybrid"),
    ``rerank``, ``fusion``, ``weights``, ``rrf_k``, ``fetch_k``, ``oversample``,
    ``score_threshold`` (on the engine's raw score) and ``filter`` (a dict in the operator
    style ``{"year": {"$gte": 2020}}`` or a qdrant ``Filter``). ``explain=True`` (also through a
    retriever's ``search_kwargs``): each returned Document carries how it ranked, as a plain
    dict, in ``metadata["_explanation"]`` (that Document's only: nothing stored changes);
    ``why_not(query, id)`` says why a document is not among the results (docs/explain.md).
    """

    def __init__(self, collection_name: str | None = None, embedding: Embeddings | None = None,
                 models: Models | None = None, *, create_collection: bool = True,
                 settings: Settings | None = None, tenant: str | None = None,
                 index: HybridIndex | None = None, **options: Any) -> None:
        if embedding is not None and models is not None and models.dense is not None:
            raise ConfigurationError(
                "give the dense model once: embedding= or Models(dense=...), not both "
                "(use Models(dense=None, ...) with embedding=)"
            )
        if embedding is not None and index is None:
            models = models.with_dense(embedding) if models else Models(dense=embedding)
        self.index: HybridIndex = store_index(index, collection_name, "langchain", models, settings,
                                              tenant, options, embedding=embedding)
        self._embedding = embedding
        if create_collection:
            self.index.create(unless_held=True)

    @property
    def embeddings(self) -> Embeddings | None:
        if self._embedding is not None:
            return self._embedding
        dense = self.index.models.dense
        if isinstance(dense, ExternalDense):  # a caller's model (e.g. a LlamaIndex store's embed_model)
            return dense.model if isinstance(dense.model, Embeddings) else None
        return HybridEmbeddings(models=self.index.models) if dense else None

    # -- writing -------------------------------------------------------------------------------
    def add_texts(self, texts: Iterable[str], metadatas: Metadatas = None, *,
                  ids: Sequence[str | None] | None = None, **kwargs: Any) -> list[str]:
        return self.index.add(_records(texts, metadatas, ids, kwargs, self._images()))

    async def aadd_texts(self, texts: Iterable[str], metadatas: Metadatas = None, *,
                         ids: Sequence[str | None] | None = None, **kwargs: Any) -> list[str]:
        return await self.index.aadd(_records(texts, metadatas, ids, kwargs, self._images()))

    def _images(self) -> bool:
        """Whether documents' ``metadata["image"]`` is their image (the store has an image or page model)."""
        return self.index.models.reads_images

    def add_images(self, uris: list[str], metadatas: Metadatas = None, *,
                   ids: list[str] | None = None, texts: list[str] | None = None) -> list[str]:
        """Index image files with the store's image model (``Models(image=...)``) and page model
        (``Models(late_interaction_multimodal=...)``: search them with ``mode="pages"``); `texts`:
        optional captions. Documents read back carry the path in ``metadata["image"]``."""
        return self.index.add(image_records(uris, metadatas, ids, texts))

    async def aadd_images(self, uris: list[str], metadatas: Metadatas = None, *,
                          ids: list[str] | None = None, texts: list[str] | None = None) -> list[str]:
        return await self.index.aadd(image_records(uris, metadatas, ids, texts))

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        self.index.delete(ids, **self._filtered(kwargs))
        return True

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        await self.index.adelete(ids, **self._filtered(kwargs))
        return True

    def _document(self, record: Record, explanation: explain.Explanation | None = None) -> Document:
        metadata = shown(record, self._images())
        if explanation is not None:  # this Document's alone: the stored metadata is left as it is
            metadata = explain.into(metadata, explanation, record.id)
        return Document(page_content=record.text, metadata=metadata, id=record.id)

    def _scored(self, hits: list[Hit], relevance: bool = False) -> list[tuple[Document, float]]:
        return [(self._document(h.record, h.explanation), h.relevance if relevance else h.score) for h in hits]

    def _filtered(self, options: dict[str, Any]) -> dict[str, Any]:
        """Options whose filter may name ``metadata["image"]`` (see `image_filter`)."""
        if options.get("filter") is None:
            return options
        return {**options, "filter": image_filter(options["filter"], self._images(), self.index.layout)}

    def reembed(self, **kwargs: Any) -> dict[str, int]:
        """Embed the stored texts into the vectors of models added since they were written, in
        place and resumably (`HybridIndex.reembed`). Open the store with
        ``create_collection=False`` so the missing vector is not an error first."""
        return self.index.reembed(**kwargs)

    async def areembed(self, **kwargs: Any) -> dict[str, int]:
        return await self.index.areembed(**kwargs)

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return [self._document(r) for r in self.index.get(list(ids))]

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return [self._document(r) for r in await self.index.aget(list(ids))]

    # -- searching -----------------------------------------------------------------------------
    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in await self.asimilarity_search_with_score(query, k, **kwargs)]

    def similarity_search_with_score(self, query: str, k: int = 4,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        return self._scored(self._search(query, k, **kwargs))

    async def asimilarity_search_with_score(self, query: str, k: int = 4,
                                            **kwargs: Any) -> list[tuple[Document, float]]:
        return self._scored(await self._asearch(query, k, **kwargs))

    def similarity_search_by_image(self, uri: object, k: int = 4, **kwargs: Any) -> list[Document]:
        """Images like the one at `uri` (a path, bytes or a PIL image), by the image vector."""
        return [doc for doc, _ in self._scored(self._search("", k, **by_image({**kwargs, "image": uri})))]

    async def asimilarity_search_by_image(self, uri: object, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self._scored(await self._asearch("", k, **by_image({**kwargs, "image": uri})))]

    def _search(self, query: str, k: int, **kwargs: Any) -> list[Hit]:
        return self.index.search(query, k, missing_ok=True, **self._filtered(kwargs))  # none yet: []

    async def _asearch(self, query: str, k: int, **kwargs: Any) -> list[Hit]:
        return await self.index.asearch(query, k, missing_ok=True, **self._filtered(kwargs))


    def similarity_search_batch(self, queries: list[str], k: int = 4,
                                **kwargs: Any) -> list[list[Document]]:
        """Many queries in one call: one embedding batch per model, one engine request."""
        found = self.index.search_batch(queries, k, **self._filtered(kwargs))
        return [[d for d, _ in self._scored(hits)] for hits in found]

    async def asimilarity_search_batch(self, queries: list[str], k: int = 4,
                                       **kwargs: Any) -> list[list[Document]]:
        found = await self.index.asearch_batch(queries, k, **self._filtered(kwargs))
        return [[d for d, _ in self._scored(hits)] for hits in found]

    def why_not(self, query: str, id: str, k: int = 4, **kwargs: Any) -> WhyNot:
        """Where the document `id` stands for `query` (the search options of
        `similarity_search`), and the first reason it is not in the top `k` (docs/explain.md)."""
        return self.index.why_not(query, id, k, **self._filtered(kwargs))

    async def awhy_not(self, query: str, id: str, k: int = 4, **kwargs: Any) -> WhyNot:
        return await self.index.awhy_not(query, id, k, **self._filtered(kwargs))

    def as_retriever(self, **kwargs: Any) -> VectorStoreRetriever:
        """LangChain's VectorStoreRetriever whose `batch` / `abatch` use one batch search."""
        tags = kwargs.pop("tags", None) or [*self._get_retriever_tags()]
        return HybridStoreRetriever(vectorstore=self, tags=tags, **kwargs)

    def _similarity_search_with_relevance_scores(self, query: str, k: int = 4,
                                                 **kwargs: Any) -> list[tuple[Document, float]]:
        return self._scored(self._search(query, k, **kwargs), relevance=True)

    async def _asimilarity_search_with_relevance_scores(
            self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        return self._scored(await self._asearch(query, k, **kwargs), relevance=True)

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                    **kwargs: Any) -> list[Document]:
        hits = self._search("", k, dense_vector=embedding, **_by_vector(kwargs))
        return [doc for doc, _ in self._scored(hits)]

    async def asimilarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                           **kwargs: Any) -> list[Document]:
        hits = await self._asearch("", k, dense_vector=embedding, **_by_vector(kwargs))
        return [doc for doc, _ in self._scored(hits)]

    def max_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20,
                                      lambda_mult: float = 0.5, **kwargs: Any) -> list[Document]:
        hits = self._search(query, k, **_mmr(fetch_k, lambda_mult, kwargs))
        return [doc for doc, _ in self._scored(hits)]

    async def amax_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20,
                                             lambda_mult: float = 0.5,
                                             **kwargs: Any) -> list[Document]:
        hits = await self._asearch(query, k, **_mmr(fetch_k, lambda_mult, kwargs))
        return [doc for doc, _ in self._scored(hits)]

    def max_marginal_relevance_search_by_vector(self, embedding: list[float], k: int = 4,
                                                fetch_k: int = 20, lambda_mult: float = 0.5,
                                                **kwargs: Any) -> list[Document]:
        options = _by_vector(_mmr(fetch_k, lambda_mult, kwargs))
        hits = self._search("", k, dense_vector=embedding, **options)
        return [doc for doc, _ in self._scored(hits)]

    async def amax_marginal_relevance_search_by_vector(
            self, embedding: list[float], k: int = 4, fetch_k: int = 20,
            lambda_mult: float = 0.5, **kwargs: Any) -> list[Document]:
        options = _by_vector(_mmr(fetch_k, lambda_mult, kwargs))
        hits = await self._asearch("", k, dense_vector=embedding, **options)
        return [doc for doc, _ in self._scored(hits)]

    # -- constructors --------------------------------------------------------------------------
    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings | None = None,
                   metadatas: Metadatas = None, *, ids: list[str] | None = None,
                   collection_name: str | None = None, **kwargs: Any) -> Self:
        store = cls(collection_name, embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    async def afrom_texts(cls, texts: list[str], embedding: Embeddings | None = None,
                          metadatas: Metadatas = None, *, ids: list[str] | None = None,
                          collection_name: str | None = None,
                          **kwargs: Any) -> Self:
        store = cls(collection_name, embedding, create_collection=False, **kwargs)
        await store.aadd_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    def from_documents(cls, documents: list[Document], embedding: Embeddings | None = None,
                       **kwargs: Any) -> Self:
        """LangChain's, with the embedding optional: the store has its own models."""
        # LangChain's passes `embedding` on to our from_texts, which takes None
        return super().from_documents(documents, embedding, **kwargs)  # type: ignore[arg-type]

    @classmethod
    async def afrom_documents(cls, documents: list[Document], embedding: Embeddings | None = None,
                              **kwargs: Any) -> Self:
        # LangChain's passes `embedding` on to our afrom_texts, which takes None
        return await super().afrom_documents(documents, embedding, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_existing_collection(cls, collection_name: str, embedding: Embeddings | None = None,
                                 **kwargs: Any) -> Self:
        """Open a collection that must exist and match the models (else a clear error)."""
        store = cls(collection_name, embedding, create_collection=False, **kwargs)
        store.index.open()
        return store


Metadatas = Sequence[dict[str, Any] | None] | None  # one per text (None: no metadata)

# Options LangChain passes along (the indexing API sends batch_size) that hybridstore has no use
# for: it batches by token budget itself.
IGNORED = frozenset({"batch_size"})


def _records(texts: Iterable[str], metadatas: Metadatas, ids: Sequence[object] | None,
             extra: dict[str, Any], images: bool = False) -> Iterable[Record]:
    """A list for lists; for any other iterable (a generator) a lazy stream, so that
    `HybridIndex.add` ingests it in bounded memory."""
    unknown = set(extra) - IGNORED
    if unknown:
        raise InvalidInputError(f"add_texts() got unknown options {sorted(unknown)}; it takes "
                                f"metadatas, ids, and ignores {', '.join(sorted(IGNORED))}")
    if isinstance(texts, str):
        raise InvalidInputError("texts must be a list of strings, not one string")
    if isinstance(texts, Sequence):
        given: tuple[tuple[str, Sequence[object] | None], ...] = (("metadatas", metadatas), ("ids", ids))
        for name, values in given:
            if values is not None and len(values) != len(texts):
                raise InvalidInputError(f"got {len(texts)} texts but {len(values)} {name}")
        return list(_stream(texts, metadatas, ids, images))
    return _stream(texts, metadatas, ids, images)


def _stream(texts: Iterable[str], metadatas: Iterable[dict[str, Any] | None] | None,
            ids: Iterable[object] | None, images: bool) -> Iterator[Record]:
    metas = iter(metadatas) if metadatas is not None else None
    given = iter(ids) if ids is not None else None
    n = 0
    for n, text in enumerate(texts, 1):
        metadata = {} if metas is None else next(metas, _MISSING)
        rid = None if given is None else next(given, _MISSING)
        if metadata is _MISSING or rid is _MISSING:
            raise InvalidInputError(f"got fewer metadatas or ids than texts (text {n})")
        rid = str(uuid.uuid4()) if rid is None else rid
        if not isinstance(rid, str):
            raise InvalidInputError(f"ids must be strings, got {rid!r} ({type(rid).__name__})")
        yield with_image(Record(rid, text, dict(metadata or {}), doc_id=_source(metadata)), images)
    if any(it is not None and next(it, _MISSING) is not _MISSING for it in (metas, given)):
        raise InvalidInputError(f"got more metadatas or ids than texts ({n})")


class _Missing(enum.Enum):
    """What `next` gives for a list that ran out before the texts."""

    MISSING = enum.auto()


_MISSING = _Missing.MISSING


def _source(metadata: dict[str, Any] | None) -> str | None:
    source = (metadata or {}).get("source")
    return source if isinstance(source, str) else None


def _by_vector(options: dict[str, Any]) -> dict[str, Any]:
    if options.get("mode", "dense") != "dense" or options.get("rerank"):
        raise InvalidInputError("search by vector is dense-only: there is no text for sparse "
                                "or late-interaction queries")
    return {**options, "mode": "dense", "rerank": False}


def _mmr(fetch_k: int, lambda_mult: float, options: dict[str, Any]) -> dict[str, Any]:
    return {"rerank": False, **options, "mmr": lambda_mult, "fetch_k": fetch_k}


# the retrievers name this class in their fields: complete them now that it exists
HybridStoreRetriever.model_rebuild(_types_namespace={"HybridVectorStore": HybridVectorStore})
HybridRetriever.model_rebuild(_types_namespace={"HybridVectorStore": HybridVectorStore})
