"""The rules between an index's models and its collection (pure: no I/O; the steps that apply
them are in `collection`).

- `expected`: the schema and model signature the models would write.
- `accept`: an existing collection must have the vectors the models use, written by the
  same models (`qdrant.signature`); the error names both models and the two fixes.
- `unfilled`: every write fills every vector of the collection, or is refused.
- `missing_vectors`: a search never silently leaves out points that lack a vector it uses.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .errors import (
    CollectionNotFoundError,
    MissingVectorsError,
    ModelSignatureWarning,
    SchemaMismatchError,
)
from .inference import KINDS, Models
from .qdrant import signature as sig
from .qdrant.schema import (
    OPTIONAL,
    PAGES,
    POOLED,
    Schema,
    VectorField,
    build_schema,
    differences,
    models_first,
)

# What the fix for a search that one vector's gaps would spoil says, by the vector's kind.
WITHOUT = {"dense": "mode='sparse'", "sparse": "mode='dense'", "late_interaction": "rerank=False",
           "image": "mode='hybrid'", PAGES: "mode='hybrid'", POOLED: "mode='hybrid'"}

# a vector whose stored model differs: (name, stored signature, configured signature, what differs)
Problem = tuple[str, dict[str, Any], dict[str, Any], str]

_warned: set[str] = set()
_warned_lock = threading.Lock()


def expected(models: Models, names: Mapping[str, str], dense_size: int | None) -> Schema:
    """The schema (and signature) these models write; loads them for sizes and fingerprints."""
    signatures = models.signatures()
    if PAGES in signatures:  # the page model's pooled vector: same model, its own field
        signatures = {**signatures, POOLED: {**signatures[PAGES], "kind": POOLED}}
    sizes = {k: signatures[k].get("dim") for k in (*KINDS, POOLED) if k in signatures}
    if "dense" not in sizes and dense_size is not None:
        sizes = {"dense": dense_size, **sizes}
        signatures = {"dense": sig.caller(dense_size), **signatures}
    modifiers = {"sparse": models.sparse.modifier if models.sparse else None}
    schema = build_schema(sizes, modifiers, names)
    vectors = {names[kind]: signatures[kind] for kind in sizes}
    return Schema(schema.fields, sig.collection_signature(vectors))


def accept(collection: str, found: Schema | None, want: Schema,
           create: bool) -> tuple[Schema, list[str]]:
    """The schema to use and the vector names whose models the collection has no record of."""
    if found is None:
        if not create:
            raise CollectionNotFoundError(f"collection {collection!r} does not exist; add records first")
        return want, []
    diffs = differences(want, found)
    if diffs:
        raise SchemaMismatchError(
            f"collection {collection!r} does not match the models: " + "; ".join(diffs)
            + ". Use the models it was built with, another collection, or drop() it; "
            "reembed() adds missing vectors from the stored texts")
    return models_first(want, found), check_signature(collection, found, want)


def check_signature(collection: str, found: Schema, want: Schema) -> list[str]:
    """Refuse vectors written by other models; the names with no record of their models."""
    stored, configured = sig.vectors_of(found.signature), sig.vectors_of(want.signature)
    problems: list[Problem] = []
    unverified: list[str] = []
    for name, mine in configured.items():
        theirs = stored.get(name)
        if theirs is None:
            continue
        what, verified = sig.compare(theirs, mine)
        if what:
            problems.append((name, theirs, mine, what))
        elif not verified:
            unverified.append(f"{name!r} ({sig.label(mine)})")
    if problems:
        raise SchemaMismatchError(_mismatch(collection, problems, want))
    if unverified:
        warn_once(f"collection {collection!r}: hybridstore cannot tell whether the vectors "
                  f"{', '.join(unverified)} came from the model you use now (no model name to "
                  "compare); make sure it is the one that wrote them")
    return [name for name in configured if name not in stored]


def _mismatch(collection: str, problems: list[Problem], want: Schema) -> str:
    lines = [f"vector {name!r} was written by {sig.label(theirs)}, but this index has "
             f"{sig.label(mine)} ({what})" for name, theirs, mine, what in problems]
    name = problems[0][0]
    field = want.by_name(name)
    kind = field.kind if field else "dense"
    return (f"collection {collection!r} was written with other models: " + "; ".join(lines)
            + ". Searching it with these models would rank by meaningless scores. Either open it "
            f"with the models that wrote it, or move it to the new model: give the new one its "
            f"own vector name (vector_names={{{kind!r}: '{name}-v2'}}), call reembed(), then "
            f"drop_vector({name!r})")


def with_vectors(stored: Mapping[str, Any] | None, added: Mapping[str, Any],
                 dropped: tuple[str, ...] = ()) -> dict[str, Any]:
    """The collection signature with some vectors' entries added or dropped."""
    vectors = {**sig.vectors_of(stored), **added}  # the rest of the record (the tenant key) stays
    return {**(stored or {}), **sig.collection_signature({n: v for n, v in vectors.items() if n not in dropped})}


def recorded_now(collection: str, names: list[str], want: Schema) -> None:
    configured = sig.vectors_of(want.signature)
    warn_once(f"collection {collection!r} had no record of the models behind its vectors "
              f"(written by an older hybridstore or another tool); recorded them now as: "
              + "; ".join(f"{n!r}: {sig.label(configured[n])}" for n in names)
              + ". Opening it with other models is an error from now on")


def unfilled(collection: str, schema: Schema, produced: set[str]) -> None:
    """Refuse a write that would leave some of the collection's vectors empty (an image
    vector is only for records with an image)."""
    missing = [f for f in schema.fields if f.name not in produced and f.kind not in OPTIONAL]
    if not missing:
        return
    stored = sig.vectors_of(schema.signature)
    models = [f"{f.name!r}: {sig.label(stored[f.name])}" for f in missing if f.name in stored]
    hint = f" ({'; '.join(models)})" if models else ""
    raise SchemaMismatchError(
        f"collection {collection!r} has the vector(s) {', '.join(f.describe() for f in missing)}, "
        "which this index's models do not produce: new points would lack them and drop out of "
        f"every search that uses them. Open the index with the model(s) that wrote them{hint}, "
        f"or drop_vector({missing[0].name!r}) first if you no longer want it")


def known_kinds(found: Schema | None) -> Schema | None:
    """The stored schema with each vector's kind as its recorded model says (an engine tells
    an image or page vector from a dense or late-interaction one only by that record)."""
    if found is None:
        return None
    stored = sig.vectors_of(found.signature)
    fields = tuple(replace(f, kind=stored[f.name]["kind"]) if stored.get(f.name, {}).get("kind") in OPTIONAL
                   else f for f in found.fields)
    return replace(found, fields=fields)


def missing_vectors(collection: str, field: VectorField, lacking: int) -> MissingVectorsError:
    source = "the stored image paths (images given as bytes must be added again)" if field.kind in OPTIONAL \
        else "the stored texts"
    return MissingVectorsError(
        f"{lacking} point(s) of collection {collection!r} have no {field.describe()} vector, so "
        f"this search would leave them out. Fill it from {source} with reembed() (CLI: "
        f"hybridstore reembed), or search without it ({WITHOUT.get(field.kind, 'another mode')})",
        field.name, lacking)


def warn_once(message: str) -> None:
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    warnings.warn(ModelSignatureWarning(message), stacklevel=4)
