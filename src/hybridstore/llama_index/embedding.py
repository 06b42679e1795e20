"""`HybridEmbedding`: a LlamaIndex `BaseEmbedding` over the core's dense model."""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ..errors import ConfigurationError
from ..inference import DEFAULT, ModelSpec, Models


class HybridEmbedding(BaseEmbedding):
    """Dense embeddings from hybridstore's inference core, shared process-wide with every
    index using the same model. ``model_name``: a dense model name or ``ModelSpec``
    (default: the pack's); ``models``: reuse an existing ``Models``' dense model.
    ``embed_batch_size`` is how many texts LlamaIndex hands over at once (512): the core sorts
    them by length and runs the model on its own batches, so larger hand-overs pad less."""

    _dense: Any = PrivateAttr()

    def __init__(self, model_name: str | ModelSpec | None = None, *, models: Models | None = None,
                 pack: Any = None, embed_batch_size: int = 512, **options: Any) -> None:
        models = models or Models(dense=model_name or DEFAULT, sparse=None, pack=pack, **options)
        if models.dense is None:
            raise ConfigurationError("HybridEmbedding needs a dense model; these Models have none")
        super().__init__(model_name=models.dense.name, embed_batch_size=embed_batch_size)
        self._dense = models.dense

    @property
    def hybridstore_dense(self) -> Any:
        """The core's dense model, which a store given this object uses directly (not for
        subclasses: they may embed otherwise)."""
        return self._dense if type(self) is HybridEmbedding else None

    @classmethod
    def class_name(cls) -> str:
        return "HybridEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return _floats(self._dense.embed_query(query))

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [_floats(v) for v in self._dense.embed_documents(texts)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)  # inference only

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return (await self._aget_text_embeddings([text]))[0]

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)


def _floats(vector: Any) -> list[float]:
    return vector.tolist() if hasattr(vector, "tolist") else [float(x) for x in vector]
