"""`HybridRetriever`: a LangChain retriever with `k` and every search option as fields, so
`invoke(query, k=3, mode="sparse")` works as LangChain's standard retriever tests expect."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from .vectorstore import HybridVectorStore


class HybridRetriever(BaseRetriever):
    """Retrieves from a `HybridVectorStore`. ``search_kwargs`` holds the core's search options
    (mode, rerank, fusion, weights, filter, ...); call-time keyword arguments override."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: HybridVectorStore
    k: int = 4
    search_kwargs: dict[str, Any] = Field(default_factory=dict)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        options = {"k": self.k, **self.search_kwargs, **kwargs}
        return self.store.similarity_search(query, **options)

    async def _aget_relevant_documents(self, query: str, *,
                                       run_manager: AsyncCallbackManagerForRetrieverRun,
                                       **kwargs: Any) -> list[Document]:
        options = {"k": self.k, **self.search_kwargs, **kwargs}
        return await self.store.asimilarity_search(query, **options)
