"""`Models`: which dense, sparse, late-interaction and image models an index uses, resolved once."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ConfigurationError, ModelNotFoundError
from . import loading
from .embedder import Embedder
from .external import External, ExternalDense, is_external
from .images import ImageEmbedder, text_tower
from .pack import Pack, PackEntry, load_pack, pack_from_env
from .pages import PageEmbedder
from .specs import KINDS, PAGES, ModelSpec

HUB_DEFAULTS = {"dense": "BAAI/bge-small-en-v1.5", "sparse": "Qdrant/bm25"}
PICTURED = ("image", PAGES)  # the kinds that embed a record's image, not its text


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = _Default()

PackGiven = str | os.PathLike[str] | Pack | None  # pack=: a folder, or a loaded pack
Dense = str | ModelSpec | External | _Default | None  # dense=: also a caller's own model
Choice = str | ModelSpec | _Default | None  # the other kinds
T = TypeVar("T")


def dense_only(model: str | ModelSpec | None, models: Models | None, pack: PackGiven,
               options: dict[str, Any], who: str) -> Embedder:
    """The dense model of an embedding adapter: `models`' own, or `model` (default: the pack's)."""
    models = models or Models(dense=model or DEFAULT, sparse=None, pack=pack, **options)
    if not isinstance(models.dense, Embedder):
        raise ConfigurationError(f"{who} needs a fastembed dense model; these Models have {models.dense!r}")
    return models.dense


def check_models(models: object) -> Models:
    """`models` as an index takes them: a `Models`, not a model's name or a model."""
    if isinstance(models, Models):
        return models
    hint = f"Models(dense={models!r})" if isinstance(models, str) else "Models(dense=your_model)"
    raise ConfigurationError(f"models must be a hybridstore.Models, got {type(models).__name__} "
                             f"{models!r}; e.g. {hint}")


class Models:
    """The models of an index, one per kind; each a name, a `ModelSpec`, or None (off).
    ``dense`` may also be your own embedding model: any object with ``embed_documents`` and
    ``embed_query`` (a LangChain ``Embeddings``).

    A kind left out takes the default: the pack's (``pack=`` or ``$HYBRIDSTORE_MODELS``),
    else ``BAAI/bge-small-en-v1.5`` dense and ``Qdrant/bm25`` sparse. Late interaction and
    images (``image=``: a CLIP-style image model, see `inference.images`) and pages
    (``late_interaction_multimodal=``: a ColPali-style page model, see `inference.pages`) are off unless asked. ``batch_size``, ``parallel``, ``threads``, ``providers`` and
    ``padding_aware`` (sort texts by token length before batching; on by default) apply to
    every model whose spec does not set them; ``quantize="int8"`` to the dense and
    late-interaction ones (see docs/benchmarks.md, "int8 models"). Nothing loads until first use.
    """

    def __init__(
        self,
        dense: Dense = DEFAULT,
        sparse: Choice = DEFAULT,
        late_interaction: Choice = None,
        image: Choice = None,
        late_interaction_multimodal: Choice = None,
        *,
        pack: PackGiven = None,
        batch_size: int | None = None,
        parallel: int | None = None,
        threads: int | None = None,
        providers: Sequence[Any] | None = None,
        padding_aware: bool | None = None,
        quantize: str | None = None,
    ) -> None:
        self.pack = pack if isinstance(pack, Pack) else load_pack(pack) if pack else pack_from_env()
        defaults = {"batch_size": batch_size, "parallel": parallel, "threads": threads,
                    "providers": list(providers) if providers else None,
                    "padding_aware": padding_aware, "quantize": quantize}
        chosen: dict[str, Dense] = {"dense": dense, "sparse": sparse, "late_interaction": late_interaction,
                                    "image": image, PAGES: late_interaction_multimodal}
        self._embedders: dict[str, Embedder | ExternalDense] = {}  # an ImageEmbedder is an Embedder
        for kind in KINDS:
            embedder = self._embedder(kind, chosen[kind], defaults)
            if embedder is not None:
                self._embedders[kind] = embedder
        if not self._embedders:
            raise ConfigurationError("Models() needs at least one model; all kinds are None")

    @property
    def dense(self) -> Embedder | ExternalDense | None:
        return self._embedders.get("dense")

    @property
    def sparse(self) -> Embedder | None:
        return _only(self._embedders.get("sparse"), Embedder)

    @property
    def late_interaction(self) -> Embedder | None:
        return _only(self._embedders.get("late_interaction"), Embedder)

    @property
    def image(self) -> ImageEmbedder | None:
        return _only(self._embedders.get("image"), ImageEmbedder)

    @property
    def late_interaction_multimodal(self) -> PageEmbedder | None:
        return _only(self._embedders.get(PAGES), PageEmbedder)

    @property
    def reads_images(self) -> bool:
        """Whether a record's image is embedded: an image model or a page model is set."""
        return self.image is not None or self.late_interaction_multimodal is not None

    def text_kinds(self) -> tuple[str, ...]:
        """The kinds that embed a record's text (all but the image and page models)."""
        return tuple(k for k in self._embedders if k not in PICTURED)

    def get(self, kind: str) -> Embedder | ExternalDense | None:
        return self._embedders.get(kind)

    def kinds(self) -> tuple[str, ...]:
        return tuple(self._embedders)

    def embed_documents(self, texts: Sequence[str], kinds: Sequence[str]) -> dict[str, list[Any]]:
        return {kind: self._embedders[kind].embed_documents(texts) for kind in kinds}

    def embed_queries(self, texts: Sequence[str], kinds: Sequence[str]) -> dict[str, list[Any]]:
        return {kind: self._embedders[kind].embed_queries(texts) for kind in kinds}

    @classmethod
    def unloaded(cls) -> Models:
        """Models for work that embeds nothing (a snapshot, a restore, a delete): one named and
        never loaded, and no model pack read (none set, or a broken one, does not matter)."""
        return cls("BAAI/bge-small-en-v1.5", None, pack=Pack(Path(os.devnull), {}, {}))

    def load(self) -> Models:
        """Load every model now (they otherwise load on first use): a missing one fails here."""
        for embedder in self._embedders.values():
            if isinstance(embedder, Embedder):
                _ = embedder.model  # loads it
        return self

    def batches(self, texts: Sequence[str]) -> list[list[int]]:
        """Positions of `texts` cut into batches of similar token length, as the first model
        that pads (dense first) cuts them; plain cuts of 32 when none pads."""
        for embedder in self._embedders.values():
            cut = embedder.batches(texts) if isinstance(embedder, Embedder) else None
            if cut is not None:
                return cut
        return [list(range(a, min(a + 32, len(texts)))) for a in range(0, len(texts), 32)]

    def describe(self) -> dict[str, Any]:
        return {kind: e.describe() for kind, e in self._embedders.items()}

    def signatures(self) -> dict[str, dict[str, Any]]:
        """What makes each kind's vectors (loads the models): kind -> model signature."""
        return {kind: e.signature() for kind, e in self._embedders.items()}

    def signature(self, image: bool = True) -> str:
        """Which models make the vectors: part of every record's content hash (of a record
        without an image, not the image and page models: adding one re-embeds no text record)."""
        return json.dumps({k: [d["name"], d.get("modifier"), *([d["quantize"]] if d.get("quantize") else [])]
                           for k, d in self.describe().items() if image or k not in PICTURED}, sort_keys=True)

    def with_dense(self, dense: Dense) -> Models:
        """These models with another dense model (a caller's embeddings), the rest kept."""
        return Models(dense=dense, sparse=self.sparse.spec if self.sparse else None,
                      late_interaction=self.late_interaction.spec if self.late_interaction else None,
                      image=self.image.spec if self.image else None,
                      late_interaction_multimodal=self.late_interaction_multimodal.spec
                      if self.late_interaction_multimodal else None, pack=self.pack)

    def __repr__(self) -> str:
        return "Models(" + ", ".join(f"{k}={e.name!r}" for k, e in self._embedders.items()) + ")"

    # -- resolution -------------------------------------------------------------------------
    def _embedder(self, kind: str, value: Dense, defaults: dict[str, Any]) -> Embedder | ExternalDense | None:
        if value is DEFAULT:
            value = (self.pack.defaults if self.pack else HUB_DEFAULTS).get(kind)
        if value is None:
            return None
        own = type(value).__dict__.get("hybridstore_dense")  # our adapters (not subclasses):
        if kind == "dense" and own:                          # their fastembed model itself
            dense: Embedder = getattr(value, own)
            return dense
        if kind == "dense" and is_external(value):
            return ExternalDense(value)
        spec, entry = self._spec(kind, value)
        spec = spec.with_defaults({k: v for k, v in defaults.items()
                                   if k != "quantize" or kind not in ("sparse", *PICTURED)})
        if kind == "image":
            return ImageEmbedder(self._paired(spec), hint=self._hint(), hub=self.pack is None)
        if kind == PAGES:
            return PageEmbedder(spec, hint=self._hint(), hub=self.pack is None)
        return Embedder(spec, self._modifier(spec, entry), hint=self._hint(), hub=self.pack is None)

    def _spec(self, kind: str, value: object) -> tuple[ModelSpec, PackEntry | None]:
        if isinstance(value, ModelSpec):
            if value.kind != kind:
                raise ConfigurationError(
                    f"{kind}= got a ModelSpec of kind {value.kind!r}; pass it as {value.kind}="
                )
            spec = value
        elif isinstance(value, str) and value:
            spec = ModelSpec(value, kind)
        else:
            raise ConfigurationError(f"{kind}= takes a model name, a ModelSpec or None, got {value!r}")
        entry = self.pack.find(spec.name) if self.pack else None
        if entry is not None and entry.kind != kind:
            raise ConfigurationError(f"{spec.name!r} is a {entry.kind} model in the pack, not {kind}")
        if spec.path is None and entry is not None:
            options = {"quantize": entry.quantize, **spec.options} if entry.quantize else spec.options
            spec = ModelSpec(entry.name, kind, str(entry.folder), options)
        if spec.path is None:
            self._check_known(spec)
        elif not Path(spec.path).is_dir():
            raise ConfigurationError(f"{kind} model folder {spec.path} does not exist")
        return spec, entry

    def _paired(self, spec: ModelSpec) -> ModelSpec:
        """An image model whose text tower the pack holds: that folder, unless one is given."""
        tower = text_tower(spec)
        entry = self.pack.find(tower.name) if tower and self.pack and "text_path" not in spec.options else None
        return spec if entry is None else ModelSpec(spec.name, spec.kind, spec.path,
                                                   {**spec.options, "text_path": str(entry.folder)})

    def _check_known(self, spec: ModelSpec) -> None:
        known = loading.supported_names(spec.kind)
        if spec.name.lower() not in {n.lower() for n in known}:
            raise ModelNotFoundError(
                f"unknown {spec.kind} model {spec.name!r}. {self._hint()} fastembed knows: "
                + ", ".join(known)
            )

    def _hint(self) -> str:
        how = "--pack DIR on the command line, pack= in Python, or $HYBRIDSTORE_MODELS"
        if self.pack is None:
            return f"No model pack is set ({how})."
        return f"The pack at {self.pack.root} ({how}) has: {self.pack.names()}."

    @staticmethod
    def _modifier(spec: ModelSpec, entry: PackEntry | None) -> str | None:
        if spec.kind != "sparse":
            return None
        if "modifier" in spec.options:
            modifier: str | None = spec.options["modifier"]
            return modifier
        if entry is not None:
            return entry.modifier
        return "idf" if loading.hub_requires_idf(spec.name) else None


def _only(embedder: object, kind: type[T]) -> T | None:
    """`embedder` if it is one of `kind` (the model of a kind, or None when the kind is off)."""
    return embedder if isinstance(embedder, kind) else None
