"""Image models: a CLIP-style pair, an image tower for images (documents and image queries)
and its paired text tower for text queries, one vector space; and the images records carry."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigurationError, InvalidInputError
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


class ImageEmbedder(Embedder):
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
                probe = _probe()
                dim = int(np.asarray(self.embed_images([probe])[0]).shape[-1])
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
        return list(self.model.embed([openable(i) for i in images],
                                     batch_size=int(opts.get("batch_size") or 16), parallel=opts.get("parallel")))

    def embed_queries(self, texts: Sequence[str]) -> list[Any]:
        """Text queries, through the text tower, into the image space."""
        if self.text is None:
            raise ConfigurationError(
                f"image model {self.name!r} has no text model to embed text queries into its "
                "space; search with an image (image=...), or name one: ModelSpec(name, 'image', "
                "options={'text_model': ...})")
        return self.text.embed_documents(texts, padding_aware=False)

    def embed_documents(self, texts: Sequence[str]) -> list[Any]:
        raise InvalidInputError("an image model embeds images, not texts: give records an image")

    def batches(self, texts: Sequence[str]) -> None:
        return None

    def tokenizer(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "image", "path": self.spec.path, "modifier": None,
                "text_model": self.text.name if self.text else None}

    def signature(self) -> dict[str, Any]:
        """Both towers: a vector stays comparable only with the same pair."""
        folder, files = model_files(getattr(self.model, "model", None))
        if files and (folder / "preprocessor_config.json").is_file():  # resizing and normalisation
            files.append(folder / "preprocessor_config.json")
        text = self.text.signature() if self.text is not None else {}
        prints = [fingerprint(folder, files) if files else None, text.get("fingerprint")]
        return {"source": "fastembed", "kind": "image", "model": self.name, "dim": self.dim, "modifier": None,
                "options": vector_options(self.spec.load_options()), "text_model": text.get("model"),
                "fingerprint": "+".join(p for p in prints if p) if prints[0] else None}


def _probe() -> Any:
    from PIL import Image

    return Image.new("RGB", (8, 8), (128, 128, 128))


def check_image(who: str, image: Any) -> None:
    """A record's image: a file path (str or Path) that exists, bytes, or a PIL image."""
    if isinstance(image, (str, Path)):
        text = str(image)
        if "://" in text:
            raise InvalidInputError(f"{who}: image {text!r} is a URL; hybridstore "
                                    "reads local files only: download it first and give the path")
        if not Path(text).is_file():
            raise InvalidInputError(f"{who}: image file {text!r} does not exist")
    elif not isinstance(image, (bytes, bytearray)) and not _is_pil(image):
        raise InvalidInputError(f"{who}: image must be a file path, bytes or a PIL "
                                f"image, got {type(image).__name__}")
    if not _is_pil(image):
        _readable(who, image)


def _readable(who: str, image: Any) -> None:
    """The file or bytes decode as an image (every pixel: a truncated JPEG passes a header check
    and would fail half-way through an add)."""
    from PIL import Image

    try:
        with Image.open(openable(image)) as opened:
            opened.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:  # what PIL raises for bad data
        raise InvalidInputError(f"{who}: the image cannot be read ({e}); give a PNG, JPEG, WebP "
                                "or another format Pillow opens") from e


def source(image: Any) -> str:
    """What the payload keeps of an image: its path, else a digest of its bytes (never the bytes)."""
    return str(image) if isinstance(image, (str, Path)) else f"sha256:{digest(image)}"


def digest(image: Any) -> str:
    """The image's content: a changed file re-embeds, a renamed copy does not. A stored
    source read back (a digest, or a path gone since) stands for itself."""
    if isinstance(image, str) and image.startswith("sha256:"):
        return image[len("sha256:"):]
    if isinstance(image, (str, Path)):
        if not Path(image).is_file():
            return f"missing:{image}"
        data = Path(image).read_bytes()
    elif isinstance(image, (bytes, bytearray)):
        data = bytes(image)
    else:
        data = image.tobytes() + repr((image.mode, image.size)).encode()
    return hashlib.sha256(data).hexdigest()


def openable(image: Any) -> Any:
    """What fastembed opens: paths as str, bytes wrapped in a file object, PIL images as they are."""
    if isinstance(image, (str, Path)):
        return str(image)
    if isinstance(image, (bytes, bytearray)):
        return io.BytesIO(bytes(image))
    return image


def _is_pil(value: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with fastembed
        return False
    return isinstance(value, Image.Image)
