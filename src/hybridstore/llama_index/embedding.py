"""`HybridEmbedding`: a LlamaIndex `BaseEmbedding` over the core's dense model."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ..inference import Embedder, Models, ModelSpec
from ..inference.embedder import floats
from ..inference.models import PackGiven, dense_only


class HybridEmbedding(BaseEmbedding):
    """Dense embeddings from hybridstore's inference core, shared process-wide with every
    index using the same model. ``model_name``: a dense model name or ``ModelSpec``
    (default: the pack's); ``models``: reuse an existing ``Models``' dense model.
    ``embed_batch_size`` is how many texts LlamaIndex hands over at once (512): the core sorts
    them by length and runs the model on its own batches, so larger hand-overs pad less."""

    _dense: Embedder = PrivateAttr()

    def __init__(self, model_name: str | ModelSpec | None = None, *, models: Models | None = None,
                 pack: PackGiven = None, embed_batch_size: int = 512, **options: Any) -> None:
        dense = dense_only(model_name, models, pack, options, "HybridEmbedding")
        super().__init__(model_name=dense.name, embed_batch_size=embed_batch_size)
        self._dense = dense

    hybridstore_dense: ClassVar[str] = "_dense"  # a store given this uses the model directly

    @classmethod
    def class_name(cls) -> str:
        return "HybridEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return floats(self._dense.embed_query(query))

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [floats(v) for v in self._dense.embed_documents(texts)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)  # inference only

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return (await self._aget_text_embeddings([text]))[0]

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)
