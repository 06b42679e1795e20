"""`HybridEmbeddings`: LangChain `Embeddings` over the core's dense model."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.embeddings import Embeddings

from ..inference import Models, ModelSpec
from ..inference.embedder import floats
from ..inference.models import PackGiven, dense_only


class HybridEmbeddings(Embeddings):
    """Dense embeddings from hybridstore's inference core (a pack's model offline).

    ``model``: a dense model name or ``ModelSpec`` (default: the pack's or the hub default);
    ``models``: reuse the dense model of an existing ``Models``. Loaded models are shared
    process-wide with every index and store using the same model.
    """

    def __init__(self, model: str | ModelSpec | None = None, *, models: Models | None = None,
                 pack: PackGiven = None, **options: Any) -> None:
        self.dense = dense_only(model, models, pack, options, "HybridEmbeddings")

    hybridstore_dense = "dense"  # a store given these embeddings uses this model directly

    @property
    def model_name(self) -> str:
        return self.dense.name

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [floats(v) for v in self.dense.embed_documents(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return floats(self.dense.embed_query(text))

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_documents, texts)  # model inference only

    async def aembed_query(self, text: str) -> list[float]:
        return await asyncio.to_thread(self.embed_query, text)
