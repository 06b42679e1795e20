"""The engine interface: the only code that performs I/O against a Qdrant engine.

Engines take the core's plain plans (Schema, Point, QueryPlan, qdrant Filter) and return
plain data. Sync methods and their `a`-prefixed async twins.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

from qdrant_client import models

from ..qdrant.payload import Point
from ..qdrant.query import QueryPlan
from ..qdrant.schema import Schema, VectorField


@dataclass(frozen=True)
class Found:
    id: str
    payload: dict[str, Any]
    score: float = 0.0


class Engine(ABC):
    @abstractmethod
    def schema(self, collection: str) -> Schema | None:
        """The collection's vectors, or None when it does not exist."""

    @abstractmethod
    def create(self, collection: str, schema: Schema) -> None: ...

    @abstractmethod
    def upsert(self, collection: str, points: Sequence[Point]) -> None: ...

    @abstractmethod
    def query(self, collection: str, plan: QueryPlan) -> list[Found]: ...

    @abstractmethod
    def scroll(self, collection: str, filter: models.Filter | None, limit: int | None) -> list[Found]:
        """Stored points matching `filter` (all of them when `limit` is None)."""

    @abstractmethod
    def delete(self, collection: str, filter: models.Filter) -> None: ...

    @abstractmethod
    def count(self, collection: str, filter: models.Filter | None) -> int: ...

    @abstractmethod
    def drop(self, collection: str) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    async def aclose(self) -> None:
        self.close()

    # The collection's record of the models behind its vectors (`qdrant.signature`), read
    # back as `schema().signature`.
    @abstractmethod
    def set_signature(self, collection: str, signature: dict[str, Any]) -> None: ...

    async def aset_signature(self, collection: str, signature: dict[str, Any]) -> None:
        self.set_signature(collection, signature)

    def describe(self) -> dict[str, Any]:
        """Which engine, and where its storage is (for info())."""
        return {"engine": type(self).__name__}

    # Re-embedding in place: a new named vector on an existing collection, filled point by point.
    @abstractmethod
    def add_vector(self, collection: str, field: VectorField) -> None: ...

    @abstractmethod
    def drop_vector(self, collection: str, name: str) -> None: ...

    @abstractmethod
    def update_vectors(self, collection: str, points: Sequence[Point]) -> None:
        """Set the given named vectors of existing points (others stay) and merge each
        point's payload keys into its payload."""

    @abstractmethod
    async def aschema(self, collection: str) -> Schema | None: ...

    @abstractmethod
    async def acreate(self, collection: str, schema: Schema) -> None: ...

    @abstractmethod
    async def aupsert(self, collection: str, points: Sequence[Point]) -> None: ...

    @abstractmethod
    async def aquery(self, collection: str, plan: QueryPlan) -> list[Found]: ...

    @abstractmethod
    async def ascroll(self, collection: str, filter: models.Filter | None, limit: int | None) -> list[Found]: ...

    @abstractmethod
    async def adelete(self, collection: str, filter: models.Filter) -> None: ...

    @abstractmethod
    async def acount(self, collection: str, filter: models.Filter | None) -> int: ...

    @abstractmethod
    async def adrop(self, collection: str) -> None: ...

    @abstractmethod
    async def aadd_vector(self, collection: str, field: VectorField) -> None: ...

    @abstractmethod
    async def adrop_vector(self, collection: str, name: str) -> None: ...

    @abstractmethod
    async def aupdate_vectors(self, collection: str, points: Sequence[Point]) -> None: ...

    # Optional capabilities: engines override these where they have them natively.
    def query_batch(self, collection: str, plans: Sequence[QueryPlan]) -> list[list[Found]]:
        return [self.query(collection, p) for p in plans]

    async def aquery_batch(self, collection: str, plans: Sequence[QueryPlan]) -> list[list[Found]]:
        return [await self.aquery(collection, p) for p in plans]

    def query_groups(self, collection: str, plan: QueryPlan, group_by: str,
                     size: int) -> list[Found] | None:
        """Hits of the best `plan.limit` groups (at most `size` each), flattened; None when
        the engine cannot group (the core then groups itself)."""
        return None

    async def aquery_groups(self, collection: str, plan: QueryPlan, group_by: str,
                            size: int) -> list[Found] | None:
        return None

    def index_payload(self, collection: str, field: str, kind: str) -> None:
        """Create a payload index (kind: keyword, integer, float, bool, datetime, text, uuid)
        on a payload path; engines whose filters cannot use indexes do nothing."""
        return None

    async def aindex_payload(self, collection: str, field: str, kind: str) -> None:
        self.index_payload(collection, field, kind)

    def optimize(self, collection: str) -> None:
        """Build vector indexes now; engines that index on their own do nothing."""
        return None

    async def aoptimize(self, collection: str) -> None:
        self.optimize(collection)
