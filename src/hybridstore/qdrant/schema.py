"""Collection schema: which named vectors a collection holds, built from the models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ConfigurationError
from .storage import Storage

PAGES = "late_interaction_multimodal"  # a page's patch vectors (MaxSim, rerank only, float16 on disk)
POOLED = "late_interaction_multimodal_pooled"  # their mean: one vector per page, HNSW (the prefetch)
DEFAULT_NAMES = {"dense": "dense", "sparse": "sparse", "late_interaction": "late", "image": "image",
                 PAGES: "pages", POOLED: "pages_pooled"}
OPTIONAL = ("image", PAGES, POOLED)  # kinds a point may lack by nature: those made from a record's image


@dataclass(frozen=True)
class VectorField:
    """One named vector. Dense: cosine. Sparse: optional IDF. Late interaction (and a page's
    patch vectors): a MaxSim multivector without an HNSW graph (it only reranks)."""

    name: str
    kind: str
    size: int | None = None
    distance: str = "cosine"
    modifier: str | None = None

    def describe(self) -> str:
        parts = [self.kind, f"size={self.size}" if self.size else "",
                 self.distance if self.kind != "sparse" else "",
                 f"modifier={self.modifier}" if self.kind == "sparse" else ""]
        return f"{self.name!r} (" + ", ".join(p for p in parts if p) + ")"


@dataclass(frozen=True)
class Schema:
    """The collection's named vectors, and its stored record of the models that made them
    (`qdrant.signature`; None for collections written by other tools or older versions), and
    how it stores them as the engine reports it (`storage.Storage`)."""

    fields: tuple[VectorField, ...]
    signature: Mapping[str, Any] | None = field(default=None, compare=False)
    storage: Storage | None = field(default=None, compare=False)  # where the engine tells
    sharded: bool = field(default=False, compare=False)  # by shard key (a server's custom sharding)

    def by_kind(self, kind: str) -> VectorField | None:
        return next((f for f in self.fields if f.kind == kind), None)

    def by_name(self, name: str) -> VectorField | None:
        return next((f for f in self.fields if f.name == name), None)


def build_schema(
    sizes: Mapping[str, int | None],
    modifiers: Mapping[str, str | None],
    names: Mapping[str, str] = DEFAULT_NAMES,
) -> Schema:
    """`sizes` maps each kind the index writes to its vector size (None for sparse)."""
    fields = tuple(VectorField(names[kind], kind, size, modifier=modifiers.get(kind))
                   for kind, size in sizes.items())
    dense = [f.name for f in fields if f.kind != "sparse"]
    if "" in dense and len(dense) > 1:  # langchain-qdrant's unnamed vector stands alone
        raise ConfigurationError("an unnamed dense vector cannot sit beside other dense vectors")
    return Schema(fields)


def differences(expected: Schema, actual: Schema, missing_ok: bool = False) -> list[str]:
    """What in `actual` disagrees with `expected`; extra vectors in `actual` are fine, and
    missing ones too with `missing_ok` (re-embedding adds them)."""
    out = []
    for want in expected.fields:
        have = actual.by_name(want.name)
        if have is None:
            if not missing_ok:
                out.append(f"vector {want.describe()} is missing")
        elif (_stored_kind(have.kind), have.distance, have.modifier) != \
                (_stored_kind(want.kind), want.distance, want.modifier) \
                or (want.size is not None and have.size != want.size):
            out.append(f"vector {want.name!r} is {have.describe()}, models need {want.describe()}")
    return out


def multivector(kind: str) -> bool:
    return kind in ("late_interaction", PAGES)


def _stored_kind(kind: str) -> str:
    """What an engine can tell: an image vector or a page's pooled one is a plain dense vector
    to it, a page's multivector a late-interaction one (the recorded model says which,
    `rules.known_kinds`)."""
    return {"image": "dense", POOLED: "dense", PAGES: "late_interaction"}.get(kind, kind)


def missing(expected: Schema, actual: Schema) -> list[VectorField]:
    return [f for f in expected.fields if actual.by_name(f.name) is None]


def models_first(expected: Schema, actual: Schema) -> Schema:
    """`actual`'s fields with those the models use first (of the kind they use them as), so
    `by_kind` finds them."""
    used = {f.name: f.kind for f in expected.fields}
    fields = [replace(f, kind=used.get(f.name, f.kind)) for f in actual.fields]
    return replace(actual, fields=tuple(sorted(fields, key=lambda f: f.name not in used)))
