"""Images for LlamaIndex: `HybridImageEmbedding` (LlamaIndex's multimodal embedding over the
core's image model) and what an image view of a `HybridVectorStore` does differently.

One collection holds both: the text store writes each node with its text vectors and, for an
ImageNode, its image vector too; the image view (`HybridVectorStore.images()`, the
``image_store`` of a `MultiModalVectorStoreIndex`) adds only the nodes not stored yet (images
without text) and searches the image vector."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import numpy as np
from llama_index.core.embeddings.multi_modal_base import MultiModalEmbedding
from llama_index.core.schema import BaseNode, ImageNode, ImageType
from pydantic import PrivateAttr

from ..errors import ConfigurationError, SchemaMismatchError
from ..inference import Models, ModelSpec
from ..inference.images import ImageEmbedder

SAME_MODEL_COSINE = 0.8


class HybridImageEmbedding(MultiModalEmbedding):
    """The image model of hybridstore's core as LlamaIndex's ``MultiModalEmbedding``: images
    through the image tower, texts (and queries) through its paired text tower.
    ``model_name``: an image model name or ``ModelSpec(..., "image", ...)``; ``models``: reuse
    the image model of existing ``Models`` (a store's)."""

    _image: ImageEmbedder = PrivateAttr()

    def __init__(self, model_name: str | ModelSpec | None = None, *, models: Models | None = None,
                 embed_batch_size: int = 64, **options: Any) -> None:
        if models is None and model_name is None:
            raise ConfigurationError("HybridImageEmbedding needs an image model: model_name= or models=")
        models = models or Models(dense=None, sparse=None, image=model_name, **options)
        if models.image is None:
            raise ConfigurationError(f"HybridImageEmbedding needs Models with an image model; got {models!r}")
        super().__init__(model_name=models.image.name, embed_batch_size=embed_batch_size)
        self._image = models.image

    @classmethod
    def class_name(cls) -> str:
        return "HybridImageEmbedding"

    def _get_image_embedding(self, img_file_path: ImageType) -> list[float]:
        return self._get_image_embeddings([img_file_path])[0]

    def _get_image_embeddings(self, img_file_paths: list[ImageType]) -> list[list[float]]:
        return [np.asarray(v).tolist() for v in self._image.embed_images(list(img_file_paths))]

    async def _aget_image_embedding(self, img_file_path: ImageType) -> list[float]:
        return await asyncio.to_thread(self._get_image_embedding, img_file_path)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embeddings([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [np.asarray(v).tolist() for v in self._image.embed_queries(texts)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await asyncio.to_thread(self._get_text_embedding, text)


def node_image(node: BaseNode) -> str | bytes | None:
    """An ImageNode's image for the core: its file path, else its (base64) bytes."""
    if not isinstance(node, ImageNode):
        return None
    if node.image_path:
        return node.image_path
    if node.image:
        return base64.b64decode(node.image)
    if node.image_url:
        return node.image_url  # refused by the core with the reason (a URL)
    return None


def check_image_embeddings(models: Models, nodes: list[BaseNode]) -> None:
    """Image embeddings nodes carry must be the store's image model's (one vector space)."""
    node = next((n for n in nodes if n.embedding is not None and node_image(n) is not None), None)
    if node is None or models.image is None:
        return
    ours = np.asarray(models.image.embed_images([node_image(node)])[0], dtype=float)
    theirs = np.asarray(node.embedding, dtype=float)
    if ours.shape != theirs.shape or float(ours @ theirs) / (np.linalg.norm(ours) * np.linalg.norm(theirs) or 1.0) \
            < SAME_MODEL_COSINE:
        raise SchemaMismatchError(
            f"image node {node.node_id!r} carries an embedding that this store's image model "
            f"{models.image.name!r} does not make: one collection holds one model's vectors. Use "
            "HybridImageEmbedding(models=<the store's models>) as the index's image_embed_model")
