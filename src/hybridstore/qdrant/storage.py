"""`Storage`: how a collection keeps its vectors and payload (memory, disk, quantization, HNSW).

Applied when a collection is created, on Qdrant Edge and a Qdrant server; qdrant-client's local
mode keeps everything in Python memory and refuses any setting but the default. A collection
records its storage, and searches follow what it has (int8 vectors are rescored from the
originals), so opening it later needs no storage= at all. See docs/scaling.md for the sizing table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError

if TYPE_CHECKING:  # schema imports this module (a schema holds its storage): no circle at run time
    from .schema import Schema

QUANTIZE = ("int8",)
READ_ONLY = ("binary", "product", "other")  # quantizations other tools make: read back, never made
# What is fixed at creation and read back from the engine; the rest tunes searches only.
STORED = ("quantize", "on_disk", "float16", "payload_on_disk", "hnsw_m", "hnsw_ef_construct",
          "late_on_disk", "late_quantize")
# Which of them a collection can only tell when it has a vector of that kind.
OF_KIND = {"dense": ("quantize", "on_disk", "float16", "hnsw_m", "hnsw_ef_construct"),
           "late_interaction": ("late_on_disk", "late_quantize")}


@dataclass(frozen=True)
class Storage:
    """``quantize="int8"``: the dense vectors also kept as int8 (in memory, 4x smaller), searched
    first and rescored from the originals (``oversampling`` times the candidates). ``on_disk``:
    the dense originals memory-mapped from disk instead of held in memory (with ``quantize``,
    only rescoring reads them). ``float16``: originals stored as float16 (half the bytes).
    ``payload_on_disk``: payloads read from disk when fetched. ``hnsw_m`` / ``hnsw_ef_construct``:
    the dense HNSW graph's links per node and build beam (None: the engine's 16 / 100);
    ``hnsw_ef``: the search beam (None: 128, or k when larger). ``late_on_disk`` /
    ``late_quantize``: the same for late-interaction multivectors. Sparse vectors follow
    ``on_disk``."""

    quantize: str | None = None
    on_disk: bool = False
    float16: bool = False
    payload_on_disk: bool = False
    hnsw_m: int | None = None
    hnsw_ef_construct: int | None = None
    hnsw_ef: int | None = None
    oversampling: float = 2.0
    late_on_disk: bool = False
    late_quantize: str | None = None

    def __post_init__(self) -> None:
        for name in ("quantize", "late_quantize"):
            if getattr(self, name) not in (None, *QUANTIZE, *READ_ONLY):
                raise ConfigurationError(f"Storage.{name}={getattr(self, name)!r}: use 'int8' or None")
        for name in ("on_disk", "float16", "payload_on_disk", "late_on_disk"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(f"Storage.{name} must be True or False, got {getattr(self, name)!r}")
        for name, low in (("hnsw_m", 0), ("hnsw_ef_construct", 4), ("hnsw_ef", 1)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < low):
                raise ConfigurationError(f"Storage.{name}={value!r}: use an integer of at least {low}, or None")
        if not isinstance(self.oversampling, (int, float)) or not 1.0 <= self.oversampling <= 16.0:
            raise ConfigurationError(f"Storage.oversampling={self.oversampling!r}: use a number from 1 to 16")

    @classmethod
    def of(cls, value: Storage | str | Mapping[str, Any] | None) -> Storage | None:
        """A Storage from itself, a preset's name or a dict of its fields; None stays None."""
        if value is None or isinstance(value, Storage):
            return value
        if isinstance(value, str):
            if value not in PRESETS:
                raise ConfigurationError(f"storage={value!r} is not a preset; use one of {sorted(PRESETS)} "
                                         "or Storage(...)")
            return PRESETS[value]
        if isinstance(value, Mapping):
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise ConfigurationError(f"unknown storage option(s) {unknown}; Storage takes: {', '.join(sorted(known))}")
            return cls(**value)
        raise ConfigurationError(f"storage={value!r}: give a Storage, a preset name ({sorted(PRESETS)}) or a dict")

    def check_asked(self) -> Storage:
        """Refuses what hybridstore only reads back (other tools' quantizations)."""
        for name in ("quantize", "late_quantize"):
            if getattr(self, name) in READ_ONLY:
                raise ConfigurationError(f"Storage.{name}={getattr(self, name)!r}: use 'int8' or None")
        return self

    def stored(self) -> dict[str, Any]:
        """The settings fixed at creation; the HNSW ones as built (None: the engines' 16 / 100)."""
        out = {name: getattr(self, name) for name in STORED}
        out["hnsw_m"] = 16 if self.hnsw_m is None else self.hnsw_m
        out["hnsw_ef_construct"] = self.hnsw_ef_construct or 100
        return out

    def __str__(self) -> str:
        """The settings not left at their defaults, e.g. Storage(quantize='int8', on_disk=True)."""
        default = Storage()
        asked = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self)
                 if getattr(self, f.name) != getattr(default, f.name)]
        return f"Storage({', '.join(asked)})"

    def is_default(self) -> bool:
        return self.stored() == Storage().stored()

    def differences(self, found: Storage, kinds: Collection[str] = tuple(OF_KIND)) -> list[str]:
        """The stored settings asked for (those not left at their defaults) that `found` does
        not have, of those a collection with vectors of `kinds` can tell. Defaults are the
        engine's choice: a server, and edge after its first optimize, keep payloads on disk."""
        mine, theirs, default = self.stored(), found.stored(), Storage().stored()
        unknown = {n for kind, names in OF_KIND.items() if kind not in kinds for n in names}
        return [f"{n}={theirs[n]!r} (asked: {mine[n]!r})" for n in STORED
                if n not in unknown and mine[n] != default[n] and mine[n] != theirs[n]]


def effective(collection: str, asked: Storage | None, schema: Schema | None) -> Storage:
    """What a collection's searches follow: its stored settings (as the engine reports them in
    its `schema`; else those asked) with the search ones asked. Asking an existing collection
    for stored settings it does not have is refused: they are fixed when it is created."""
    found = schema.storage if schema is not None else None
    if schema is not None and found is not None and asked is not None:
        diffs = asked.differences(found, {f.kind for f in schema.fields})
        if diffs:
            raise ConfigurationError(
                f"collection {collection!r} was created with other storage settings: {', '.join(diffs)}. "
                "They are fixed at creation: open it without storage= (or with its own), or copy "
                "it into a new collection with the settings you want (copy_to, hybridstore copy)")
    base = found or asked or Storage()
    return dataclasses.replace(base, hnsw_ef=asked.hnsw_ef, oversampling=asked.oversampling) if asked else base


def of_vector(st: Storage, kind: str) -> Storage:
    """The settings one vector is created with: a page's patch vectors (kind
    "late_interaction_multimodal", about a thousand per page, read only to rerank the few pages
    the pooled prefetch found) are always on disk and float16 (half the bytes; uint8 would need
    integer-valued vectors), never quantized; the rest follow `st`."""
    if kind != "late_interaction_multimodal":
        return st
    return dataclasses.replace(st, late_on_disk=True, float16=True, late_quantize=None)


def quantization_name(config: object) -> str | None:
    """A quantization config as the engine reports it (JSON-like dict) -> Storage's name."""
    if not config or not isinstance(config, dict):
        return None  # absent, or "Disabled"
    scalar = config.get("scalar")
    if scalar is not None:
        return "int8" if str(scalar.get("type", "")).lower() == "int8" else "other"
    return next((k for k in ("binary", "product") if k in config), "other")


# Large collections (from about a million chunks, see docs/scaling.md): int8 dense vectors in
# memory, everything else memory-mapped from disk.
PRESETS = {
    "default": Storage(),
    "large": Storage(quantize="int8", on_disk=True, payload_on_disk=True, late_on_disk=True,
                     late_quantize="int8"),
}
