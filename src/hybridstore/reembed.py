"""Re-embedding in place: fill a named vector that stored points lack, from their stored texts.

Resumable by construction: the work left is "points without this vector" (a `has_vector`
filter), so a run that stops part-way continues where it stopped. Sync and async loops in
`HybridIndex` share this bookkeeping.
"""

from __future__ import annotations

from typing import Any

from qdrant_client import models as qm

from .engine import Found
from .errors import SchemaMismatchError
from .qdrant import filters, payload
from .qdrant.schema import Schema, VectorField, differences, missing


def new_fields(collection: str, expected: Schema, found: Schema) -> list[VectorField]:
    """The vectors to add; a vector that exists with other settings cannot be refilled."""
    diffs = differences(expected, found, missing_ok=True)
    if diffs:
        raise SchemaMismatchError(
            f"collection {collection!r}: " + "; ".join(diffs) + ". To replace a model, give its "
            "vector a new name (vector_names={'dense': 'dense-v2'}), reembed(), then drop_vector() "
            "the old one"
        )
    return missing(expected, found)


class Refill:
    """One vector's pass: which points still lack it, and the points that fill it."""

    def __init__(self, field: VectorField, batch_size: int) -> None:
        self.field, self.batch_size = field, batch_size
        self.seen: set[str] = set()
        self.stuck: set[str] = set()  # sent once, still without the vector (e.g. empty sparse)
        self.filled = 0

    def lacking(self) -> qm.Filter:
        return filters.lacking_vector(self.field.name, sorted(self.stuck))

    def take(self, found: list[Found]) -> list[Found] | None:
        """The points of this page to embed; None when the pass is complete."""
        if not found:
            return None
        self.stuck.update(f.id for f in found if f.id in self.seen)
        fresh = [f for f in found if f.id not in self.seen]
        self.seen.update(f.id for f in fresh)
        return fresh

    def points(self, index: Any, fresh: list[Found]) -> list[payload.Point]:
        records = [index.layout.to_record(f.payload, f.id) for f in fresh]
        kind = self.field.kind
        vectors = index.models.embed_documents([r.text for r in records], [kind])[kind]
        hashes = index._hashes(records, None)  # the models changed: so does the content hash
        self.filled += len(records)
        return [payload.Point(f.id, {self.field.name: payload.plain_vector(kind, v)},
                              {index.layout.hash_key: h})
                for f, v, h in zip(fresh, vectors, hashes, strict=True)]
