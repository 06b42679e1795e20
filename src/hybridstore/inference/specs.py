"""Model specs: what to load (name, kind, folder) and how (options)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError
from .quantize import check

PAGES = "late_interaction_multimodal"  # ColPali-style: a page image -> patch vectors, a query -> token vectors
KINDS = ("dense", "sparse", "late_interaction", "image", PAGES)

# Options consumed at embed time; everything else goes to the fastembed constructor.
EMBED_OPTIONS = frozenset({"batch_size", "parallel", "padding_aware", "max_batch_tokens"})
# Options hybridstore reads itself and never passes on.
OWN_OPTIONS = frozenset({"modifier", "quantize", "text_model", "text_path"}) | EMBED_OPTIONS
# (kind, name, folder, load options as (name, repr) pairs, quantize): one loaded model each
CacheKey = tuple[str, str, str | None, tuple[tuple[str, str], ...], object]


@dataclass(frozen=True)
class ModelSpec:
    """A model to load: fastembed `name`, its `kind`, an optional local `path`.

    `options`: `batch_size`, `parallel`, `padding_aware`, `max_batch_tokens` (embed time), `threads`,
    `providers`, `cuda` and any other fastembed constructor argument (load time),
    `modifier` ("idf" or None) for sparse models, and `quantize` ("int8": run an int8 copy of
    a dense or late-interaction model, made once and cached; see `inference.quantize`).
    Image models (kind "image"): `text_model` and `text_path` name the paired text tower
    (known pairs need neither; see `inference.images`).
    """

    name: str
    kind: str
    path: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError(f"ModelSpec.name must be a non-empty string, got {self.name!r}")
        if self.kind not in KINDS:
            raise ConfigurationError(
                f"ModelSpec.kind {self.kind!r} is unknown; use one of {', '.join(KINDS)}"
            )
        object.__setattr__(self, "options", dict(self.options))
        if self.options.get("quantize") is not None:
            check(self.kind, self.name, self.options["quantize"])

    def load_options(self) -> dict[str, Any]:
        return {k: v for k, v in self.options.items() if k not in OWN_OPTIONS}

    def cache_key(self) -> CacheKey:
        opts = tuple(sorted((k, repr(v)) for k, v in self.load_options().items()))
        return (self.kind, self.name, self.path, opts, self.options.get("quantize"))

    def with_defaults(self, defaults: Mapping[str, Any]) -> ModelSpec:
        """Fill options the spec does not set from index-wide defaults."""
        merged = {k: v for k, v in defaults.items() if v is not None}
        merged.update(self.options)
        return ModelSpec(self.name, self.kind, self.path, merged)
