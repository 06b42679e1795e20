"""Retrievers whose `batch` / `abatch` run one batch search (one embedding batch per model,
one engine request) instead of a loop of single searches.

`HybridRetriever` has `k` and the search options as fields, so `invoke(query, k=3,
mode="sparse")` works as LangChain's standard retriever tests expect; `HybridStoreRetriever`
is what `HybridVectorStore.as_retriever()` returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from langchain_core.vectorstores import VectorStoreRetriever
from pydantic import ConfigDict, Field

if TYPE_CHECKING:  # the store imports this module; it completes these models once defined
    from .vectorstore import HybridVectorStore

# The mixin's `super().batch` is the retriever's (a mixin at run time, a retriever to mypy).
if TYPE_CHECKING:
    _Retriever = BaseRetriever
else:
    _Retriever = object


class _BatchSearch(_Retriever):
    """`batch` of plain query strings goes through `similarity_search_batch`. Per-input
    callbacks are not run for such a batch; other inputs fall back to LangChain's batch."""

    def _store(self) -> HybridVectorStore:
        raise NotImplementedError

    def _batch_options(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def batch(self, inputs: list[Any], config: RunnableConfig | list[RunnableConfig] | None = None,
              *, return_exceptions: bool = False, **kwargs: Any) -> list[list[Document]]:
        options = self._batch_options()
        if options is None or not inputs or not all(isinstance(i, str) for i in inputs):
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        return self._store().similarity_search_batch(list(inputs), **{**options, **kwargs})

    async def abatch(self, inputs: list[Any],
                     config: RunnableConfig | list[RunnableConfig] | None = None,
                     *, return_exceptions: bool = False, **kwargs: Any) -> list[list[Document]]:
        options = self._batch_options()
        if options is None or not inputs or not all(isinstance(i, str) for i in inputs):
            return await super().abatch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        return await self._store().asimilarity_search_batch(list(inputs), **{**options, **kwargs})


class HybridStoreRetriever(_BatchSearch, VectorStoreRetriever):
    vectorstore: HybridVectorStore

    def _store(self) -> HybridVectorStore:
        return self.vectorstore

    def _batch_options(self) -> dict[str, Any] | None:
        return dict(self.search_kwargs) if self.search_type == "similarity" else None


class HybridRetriever(_BatchSearch, BaseRetriever):
    """Retrieves from a `HybridVectorStore`. ``search_kwargs`` holds the core's search options
    (mode, rerank, fusion, weights, filter, group_by, ...); call-time keyword arguments override."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: HybridVectorStore
    k: int = 4
    search_kwargs: dict[str, Any] = Field(default_factory=dict)

    def _store(self) -> HybridVectorStore:
        return self.store

    def _batch_options(self) -> dict[str, Any] | None:
        return None if self.search_kwargs.get("group_by") else {"k": self.k, **self.search_kwargs}

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        return self.store.similarity_search(query, **{"k": self.k, **self.search_kwargs, **kwargs})

    async def _aget_relevant_documents(self, query: str, *,
                                       run_manager: AsyncCallbackManagerForRetrieverRun,
                                       **kwargs: Any) -> list[Document]:
        return await self.store.asimilarity_search(query, **{"k": self.k, **self.search_kwargs, **kwargs})
