"""Image models: a CLIP-style pair, an image tower for images (documents and image queries)
and its paired text tower for text queries, one vector space. The images records carry (checks,
sources, digests) are `hybridstore.image_sources`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from ..errors import ConfigurationError, InvalidInputError
from ..image_sources import openable
from .embedder import Embedder
from .fingerprint import fingerprint, model_files, vector_options
from .specs import ModelSpec

# The text tower trained with each image tower fastembed knows (by name); others name theirs
# with ModelSpec(..., options={"text_model": ..., "text_path": ...}).
TEXT_TOWERS = {"qdrant/clip-vit-b-32-vision": "Qdrant/clip-ViT-B-32-text",
               "jinaai/jina-clip-v1": "jinaai/jina-clip-v1",
               "nomic-ai/nomic-embed-vision-v1.5": "nomic-ai/nomic-embed-text-v1.5",
               "nomic-ai/nomic-embed-vision-v1.5-q": "nomic-ai/nomic-embed-text-v1.5-Q",
               "google/siglip2-base-patch16-224": "google/siglip2-base-patch16-224"}


def text_tower(spec: ModelSpec) -> ModelSpec | None:
    name = spec.options.get("text_model") or TEXT_TOWERS.get(spec.name.lower())
    if name is None:
        return None
    opts = {k: v for k, v in spec.options.items() if k not in ("text_model", "text_path", "padding_aware")}
    return ModelSpec(name, "dense", spec.options.get("text_path"), opts)


class PicturedEmbedder(Embedder):
    """A model that embeds a record's image, not its text (image and page models)."""

    what = "an image model embeds images"

    def embed_documents(self, texts: Sequence[str], padding_aware: bool | None = None) -> list[Any]:
        raise InvalidInputError(f"{self.what}, not texts: give records an image")

    def batches(self, texts: Sequence[str]) -> None:
        return None

    def tokenizer(self) -> None:
        return None


class ImageEmbedder(PicturedEmbedder):
    """Embeds images with the image tower and text queries with the paired text tower."""

    def __init__(self, spec: ModelSpec, hint: str = "", hub: bool = True) -> None:
        super().__init__(spec, None, hint, hub)
        tower = text_tower(spec)
        self.text = Embedder(tower, hint=hint, hub=hub) if tower is not None else None

    @property
    def dim(self) -> int:
        """The vector size, from real embeddings of both towers (they must agree)."""
        with self._dim_lock:
            if self._dim is None:
                dim = int(np.asarray(self.embed_images([probe()])[0]).shape[-1])
                if self.text is not None and self.text.dim != dim:
                    raise ConfigurationError(
                        f"image model {self.name!r} makes {dim}-d vectors but its text model "
                        f"{self.text.name!r} makes {self.text.dim}-d ones: they are not a pair; "
                        "name the text tower trained with it (options={'text_model': ...})")
                self._dim = dim
        return self._dim

    def embed_images(self, images: Sequence[Any]) -> list[Any]:
        if not images:
            return []
        opts = self.spec.options
        return list(self.model.embed(opened(images),
                                     batch_size=int(opts.get("batch_size") or 16), parallel=opts.get("parallel")))

    def embed_queries(self, texts: Sequence[str]) -> list[Any]:
        """Text queries, through the text tower, into the image space."""
        if self.text is None:
            raise ConfigurationError(
                f"image model {self.name!r} has no text model to embed text queries into its "
                "space; search with an image (image=...), or name one: ModelSpec(name, 'image', "
                "options={'text_model': ...})")
        return self.text.embed_documents(texts, padding_aware=False)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "image", "path": self.spec.path, "modifier": None,
                "text_model": self.text.name if self.text else None}

    def signature(self) -> dict[str, Any]:
        """Both towers: a vector stays comparable only with the same pair."""
        text = self.text.signature() if self.text is not None else {}
        prints = [image_fingerprint(self.model), text.get("fingerprint")]
        return {"source": "fastembed", "kind": "image", "model": self.name, "dim": self.dim, "modifier": None,
                "options": vector_options(self.spec.load_options()), "text_model": text.get("model"),
                "fingerprint": "+".join(p for p in prints if p) if prints[0] else None}


def image_fingerprint(model: object) -> str | None:
    """The fingerprint of an image model's files, its resizing and normalisation included."""
    folder, files = model_files(getattr(model, "model", None))
    if folder is not None and files and (folder / "preprocessor_config.json").is_file():
        files.append(folder / "preprocessor_config.json")
    return fingerprint(folder, files) if folder is not None and files else None


def opened(images: Sequence[Any]) -> list[Any]:
    """Images as fastembed takes them (paths, or PIL images for bytes)."""
    return [openable(i) for i in images]


def probe() -> Image.Image:
    return Image.new("RGB", (8, 8), (128, 128, 128))
