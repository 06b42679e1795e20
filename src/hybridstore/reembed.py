"""Re-embedding in place: fill a named vector that stored points lack, from their stored texts;
and dropping a vector. Steps for `driver` (one code path for each method and its async twin).

Resumable by construction: the work left is "points without this vector" (a `has_vector`
filter), so a run that stops part-way continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import collection, image_sources, rules
from .collection import Collection
from .engine.requests import (
    ChangeVectors,
    Count,
    Found,
    GetSchema,
    SetSignature,
    Write,
    ask,
    scroll,
)
from .errors import CollectionNotFoundError, InvalidInputError, SchemaMismatchError
from .inference.pages import pooled
from .qdrant import payload
from .qdrant.filter_tree import Filter
from .qdrant.schema import OPTIONAL, POOLED, Schema, VectorField, differences, missing
from .qdrant.storage import Storage, effective
from .steps import Ensure, Steps, ask_work


def reembed(col: Collection, batch_size: int, progress: Callable[[str, int], None] | None) -> Steps[dict[str, int]]:
    found = yield from ask(GetSchema())
    want, fields, storage = yield from ask_work(_plan, col, found)
    for field in fields:
        yield ChangeVectors(add=field, storage=storage[field.name])
    col.state.invalidate()
    yield Ensure(False)
    yield from collection.sign(col)
    filled = {}
    for field in want.fields:
        filled[field.name] = yield from _refill(col, Refill(field, batch_size), progress)
        n = yield from ask(Count(col.confine(collection.lacking_filter(col, col.schema, field))))
        col.state.counted(field.name, n)
    return filled


def _refill(col: Collection, refill: Refill, progress: Callable[[str, int], None] | None) -> Steps[int]:
    """One vector's pass, a page at a time until no point lacks it; how many were filled."""
    while True:
        page = yield from scroll(col.confine(refill.lacking(col)), refill.batch_size)
        fresh = refill.take(page)
        if fresh is None:
            return refill.filled
        if fresh:
            points = yield from ask_work(refill.points, col, fresh)
            yield Write(points, merge=True)
            if progress:
                progress(refill.field.name, len(fresh))


def drop_vector(col: Collection, name: str) -> Steps[None]:
    if name in {col.names[k] for k in col.models.kinds()}:
        raise InvalidInputError(f"vector {name!r} is used by this index's models; drop it from an "
                                "index whose models no longer use it")
    stored = yield from ask(GetSchema())
    yield ChangeVectors(drop=name)
    if stored is not None and stored.signature is not None:
        yield SetSignature(rules.with_vectors(stored.signature, {}, (name,)))
    col.state.invalidate()


def new_fields(collection: str, expected: Schema, found: Schema) -> list[VectorField]:
    """The vectors to add; a vector that exists with other settings cannot be refilled."""
    diffs = differences(expected, found, missing_ok=True)
    if diffs:
        raise SchemaMismatchError(
            f"collection {collection!r}: " + "; ".join(diffs) + ". To replace a model, give its "
            "vector a new name (vector_names={'dense': 'dense-v2'}), reembed(), then drop_vector() "
            "the old one")
    return missing(expected, found)


def _plan(col: Collection, found: Schema | None) -> tuple[Schema, list[VectorField], dict[str, Storage]]:
    """What the models write, the vectors to add and the storage of each; checked (the storage
    asked too, as on opening) before any is added."""
    if found is None:
        raise CollectionNotFoundError(f"collection {col.name!r} does not exist; add records first")
    want = rules.expected(col.models, col.names, None)
    fields = new_fields(col.name, want, found)
    rules.check_signature(col.name, found, want)
    return want, fields, {f.name: _storage_for(col, found, f) for f in fields}


def _storage_for(col: Collection, found: Schema, field: VectorField) -> Storage:
    """A kind the collection has keeps the collection's settings; a new kind (late interaction
    first added) takes those asked (storage=), else the defaults. Sparse follows dense."""
    stored = effective(col.name, col.settings.storage, found)  # refuses what the collection lacks
    late = field.kind == "late_interaction"
    has_kind = any((f.kind == "late_interaction") == late for f in found.fields if f.kind != "sparse")
    return stored if has_kind or col.settings.storage is None else col.settings.storage


def _from_images(col: Collection, kind: str, images: list[Any]) -> list[Any]:
    """The vectors of `kind` made from images: the image model's, or the page model's (its
    patch vectors, or their pooled vector)."""
    if kind == "image":
        return col.image_model().embed_images(images)
    pages = col.models.late_interaction_multimodal
    if pages is None:
        raise InvalidInputError("this index has no page model; configure Models(late_interaction_multimodal=...)")
    made = pages.embed_images(images)
    return [pooled(v) for v in made] if kind == POOLED else list(made)


class Refill:
    """One vector's pass: which points still lack it, and the points that fill it."""

    def __init__(self, field: VectorField, batch_size: int) -> None:
        self.field, self.batch_size = field, batch_size
        self.seen: set[str] = set()
        self.stuck: set[str] = set()  # sent once, still without the vector (e.g. empty sparse)
        self.filled = 0

    def lacking(self, col: Collection) -> Filter:
        return collection.lacking_filter(col, col.schema, self.field, sorted(self.stuck))

    def take(self, found: list[Found]) -> list[Found] | None:
        """The points of this page to embed; None when the pass is complete."""
        if not found:
            return None
        self.stuck.update(f.id for f in found if f.id in self.seen)
        fresh = [f for f in found if f.id not in self.seen]
        self.seen.update(f.id for f in fresh)
        return fresh

    def points(self, col: Collection, fresh: list[Found]) -> list[payload.Point]:
        records = [col.layout.to_record(f.payload, f.id) for f in fresh]
        kind = self.field.kind
        # from the stored path (an image given as bytes cannot be read again); a PDF page
        # rendered once for its vectors and its hash, and left, as a file gone is, when it no
        # longer renders (the PDF changed: its next ingest names the page)
        usable = {i: r for i, r in enumerate(records) if kind not in OPTIONAL or image_sources.rereadable(r.image)}
        for i, r in list(usable.items()):
            try:
                usable[i] = payload.rendered([r])[0]
            except InvalidInputError:
                del usable[i]
        self.stuck.update(f.id for i, f in enumerate(fresh) if i not in usable)
        fresh, records = [fresh[i] for i in usable], list(usable.values())
        if kind in OPTIONAL:
            vectors = _from_images(col, kind, [r.image for r in records])
        else:
            vectors = col.models.embed_documents([r.text for r in records], [kind])[kind]
        hashes = payload.content_hashes(col.layout, col.models, records)  # new models: new hashes
        self.filled += len(records)
        return [payload.Point(f.id, {self.field.name: payload.plain_vector(kind, v)}, h)
                for f, v, h in zip(fresh, vectors, hashes, strict=True)]
