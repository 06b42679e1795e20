"""Page models (kind "late_interaction_multimodal", ColPali-style): a page image becomes a bag of
patch vectors, a text query a bag of token vectors, one space, scored by MaxSim.

Each page also gets one pooled vector, the mean of its unit patch vectors (`pooled`): searched
through an HNSW graph, it picks the candidates the full MaxSim reranks. Plain mean pooling needs
no knowledge of how a model lays its patches out (ColPali's 32 x 32 grid and ColModernVBERT's
tiles differ), and one vector per page keeps the graph as small as a text chunk's. A query's
pooled vector is the mean of its unit token vectors: under cosine it ranks pages exactly as the
MaxSim of the query against each page's single pooled vector would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .fingerprint import vector_options
from .images import PicturedEmbedder, image_fingerprint, opened, probe
from .specs import PAGES, ModelSpec


def pooled(vectors: npt.ArrayLike) -> list[float]:
    """One vector for a bag of them: the mean of the unit vectors, as a unit vector."""
    rows = np.asarray(vectors, dtype=np.float32)
    units = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    mean = units.mean(axis=0)
    return [float(x) for x in mean / max(float(np.linalg.norm(mean)), 1e-12)]


class PageEmbedder(PicturedEmbedder):
    """Embeds page images with the model's image side and text queries with its query side."""

    what = "a page model embeds images (pages)"

    def __init__(self, spec: ModelSpec, hint: str = "", hub: bool = True) -> None:
        super().__init__(spec, None, hint, hub)

    @property
    def dim(self) -> int:
        """The size of each patch (and token) vector, from a real embedding."""
        with self._dim_lock:
            if self._dim is None:
                self._dim = int(np.asarray(self.embed_images([probe()])[0]).shape[-1])
        return self._dim

    def embed_images(self, images: Sequence[Any]) -> list[npt.NDArray[np.float32]]:
        """One multivector (patches x dim) per image."""
        if not images:
            return []
        opts = self.spec.options
        return [np.asarray(v, dtype=np.float32) for v in self.model.embed_image(
            opened(images), batch_size=int(opts.get("batch_size") or 16), parallel=opts.get("parallel"))]

    def embed_queries(self, texts: Sequence[str]) -> list[Any]:
        """One multivector (tokens x dim) per query."""
        opts = self.spec.options
        return [np.asarray(v, dtype=np.float32) for v in self.model.embed_text(
            list(texts), batch_size=int(opts.get("batch_size") or 16))]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": PAGES, "path": self.spec.path, "modifier": None}

    def signature(self) -> dict[str, Any]:
        return {"source": "fastembed", "kind": PAGES, "model": self.name, "dim": self.dim, "modifier": None,
                "options": vector_options(self.spec.load_options()), "fingerprint": image_fingerprint(self.model)}
