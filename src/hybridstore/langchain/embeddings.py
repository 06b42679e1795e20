"""`HybridEmbeddings`: LangChain `Embeddings` over the core's dense model."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.embeddings import Embeddings

from ..errors import ConfigurationError
from ..inference import DEFAULT, ModelSpec, Models


class HybridEmbeddings(Embeddings):
    """Dense embeddings from hybridstore's inference core (a pack's model offline).

    ``model``: a dense model name or ``ModelSpec`` (default: the pack's or the hub default);
    ``models``: reuse the dense model of an existing ``Models``. Loaded models are shared
    process-wide with every index and store using the same model.
    """

    def __init__(self, model: str | ModelSpec | None = None, *, models: Models | None = None,
                 pack: Any = None, **options: Any) -> None:
        models = models or Models(dense=model or DEFAULT, sparse=None, pack=pack, **options)
        if models.dense is None:
            raise ConfigurationError("HybridEmbeddings needs a dense model; these Models have none")
        self.dense = models.dense

    @property
    def hybridstore_dense(self) -> Any:
        """The core's dense model, which a store given this object uses directly (not for
        subclasses: they may embed otherwise)."""
        return self.dense if type(self) is HybridEmbeddings else None

    @property
    def model_name(self) -> str:
        return self.dense.name

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [_floats(v) for v in self.dense.embed_documents(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return _floats(self.dense.embed_query(text))

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_documents, texts)  # model inference only

    async def aembed_query(self, text: str) -> list[float]:
        return await asyncio.to_thread(self.embed_query, text)


def _floats(vector: Any) -> list[float]:
    return [float(x) for x in (vector.tolist() if hasattr(vector, "tolist") else vector)]
