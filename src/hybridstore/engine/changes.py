"""What an engine that every writer of its collections goes through counts, so that each index
sharing it notices what another changed (see `Engine.changes`).

An embedded engine is the only way into its storage: Qdrant Edge locks its shard's log, a
folder is locked by hybridstore, ``:memory:`` is private. Indexes that share the engine
(``engine=``, tenant views) read its count of the changes that may leave points lacking a
vector: a write of a point without every vector of the collection, a vector added or dropped,
the collection made or dropped, its models recorded. While the count stands still, what an
index counted and read of its collection is still true, and checking costs no I/O. A complete
write (every hybridstore write whose index knows the collection as it is) leaves it still.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..qdrant import signature as sig
from ..qdrant.schema import OPTIONAL, Schema
from .requests import ChangeVectors, Create, Drop, Request, SetSignature, Write

RESHAPE = (ChangeVectors, Create, Drop, SetSignature)  # the collection's vectors or models change


class Ledger:
    """Per collection: how many such changes, and the vectors every point should have."""

    def __init__(self, schema_of: Callable[[str], Schema | None]) -> None:
        self.schema_of = schema_of  # the engine's own GetSchema
        self.counts: dict[str, int] = {}
        self.required: dict[str, frozenset[str]] = {}
        self.lock = threading.Lock()

    def count(self, collection: str) -> int:
        return self.counts.get(collection, 0)

    def run(self, collection: str, request: Request[Any], run: Callable[[str, Request[Any]], Any]) -> Any:
        """`run(collection, request)`, noted."""
        try:
            result = run(collection, request)
        except BaseException:
            self.note(collection, request, failed=True)
            raise
        self.note(collection, request)
        return result

    def note(self, collection: str, request: Request[Any], failed: bool = False) -> None:
        """After `request` ran (or failed, part-way perhaps): count it if it may leave a
        point lacking a vector."""
        if isinstance(request, RESHAPE):
            self.required.pop(collection, None)
        elif not isinstance(request, Write) or not failed and self._complete(collection, request):
            return
        with self.lock:
            self.counts[collection] = self.counts.get(collection, 0) + 1

    def _complete(self, collection: str, request: Write) -> bool:
        if request.merge:  # sets some vectors of existing points (a reembed filling one)
            return False
        required = self.required.get(collection)
        if required is None:
            required = self.required[collection] = _required(self.schema_of(collection))
        return all(required <= p.vectors.keys() for p in request.points)


def _required(schema: Schema | None) -> frozenset[str]:
    """The vectors a point should have (an image vector only with an image: not required)."""
    if schema is None:
        return frozenset()
    kinds = {n: v.get("kind") for n, v in sig.vectors_of(schema.signature).items()}
    return frozenset(f.name for f in schema.fields if kinds.get(f.name, f.kind) not in OPTIONAL)
