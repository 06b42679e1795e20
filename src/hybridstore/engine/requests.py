"""Engine requests: what the core asks of an engine, engine-neutral and free of I/O.

An engine compiles each request to its own call and runs it (`Engine.run`). Each request is a
frozen dataclass whose type parameter is its result (`Count(Request[int])`); a step asks for it
with `n = yield from ask(Count())`. Rules every engine shares live here once: the page size of
scrolls (the core pages, engines return one page), the `Found` result, and `scroll`, the steps
that page through a filter.

    request                               result
    GetSchema()                           Schema (with its stored signature) or None
    Changes()                             int: changes this engine made that may leave points
                                          lacking a vector (see `engine.changes`); None where
                                          writers it cannot see reach the collection
    Create(schema, storage)               None   (the collection with its vectors and signature)
    Drop()                                None   (nothing to drop is not an error)
    SetSignature(signature)               None
    ChangeVectors(add=field | drop=name, storage)  None
    IndexPayload(field, kind)             None   (engines without payload indexes do nothing)
    Optimize()                            None   (engines that index on their own do nothing)
    Write(points, merge=False)            None   (merge: set vectors of existing points, merge
                                                  payload keys; else upsert whole points)
    SetPayloads(points)                   None   (each point's payload replaced; vectors kept)
    Delete(filter)                        None
    Count(filter)                         int
    ScrollPage(filter, limit, offset)     (list[Found], next offset or None; with_vectors: each
                                                  Found's vectors too)
    Query(plan, group_by, group_size)     list[Found] (with group_by: the best `plan.limit`
                                                  groups, flattened; only where `engine.groups`)
    QueryBatch(plans)                     list[list[Found]]
    ShardKeys()                           list of the collection's shard keys (custom sharding)
    CreateShardKey(key, partial=False)    None   (partial: filled by a MoveTenant)
    MoveTenant(filter, source, target)    None   (the server copies the points in the background)

Any request may carry `shard=Route(...)`: the shard key it is confined to (set by the driver
for a tenant's view of a collection sharded by tenant; engines without shards never see one).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

from ..qdrant.filter_tree import Filter
from ..qdrant.payload import Point
from ..qdrant.query import QueryPlan
from ..qdrant.schema import Schema, VectorField
from ..qdrant.storage import Storage

PAGE = 256  # points per scroll page
Offset = int | str | UUID | None  # where a scroll page starts, as the engine gave it
R = TypeVar("R")


class Found:
    """A point read back: its id (a string), payload, score, and from a scroll with_vectors
    its vectors (name -> list / SparseVec). `id` may be the engine's point, whose id is read
    on first use: edge makes a Python UUID of each, a tenth of a search's time at k=100, and
    hits whose payload holds their own id never need it (`str(found)` is the id, so a layout
    given the Found reads it only then)."""

    __slots__ = ("_id", "payload", "score", "vectors")

    def __init__(self, id: Any, payload: dict[str, Any], score: float = 0.0,
                 vectors: dict[str, Any] | None = None) -> None:
        self._id, self.payload, self.score, self.vectors = id, payload, score, vectors

    @property
    def id(self) -> str:
        if not isinstance(self._id, str):  # an edge point, or a plain id from another engine
            self._id = str(getattr(self._id, "id", self._id))
        return self._id

    def __str__(self) -> str:
        return self.id

    def __reduce__(self) -> tuple[type[Found], tuple[str, dict[str, Any], float, dict[str, Any] | None]]:  # from edge's worker process: the id as a string
        return Found, (self.id, self.payload, self.score, self.vectors)

    def __repr__(self) -> str:
        return f"Found(id={self.id!r}, score={self.score!r}, payload={self.payload!r})"


@dataclass(frozen=True)
class Route:
    """A shard key, and the shared one requests go to while the target does not exist."""
    target: str
    fallback: str | None = None


@dataclass(frozen=True)
class Request(Generic[R]):
    """Base of the requests: a frozen dataclass whose type parameter is what the engine
    returns for it (`Count` is a `Request[int]`: `n = yield from ask(Count())` is an int)."""

    shard: Route | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class GetSchema(Request[Schema | None]):
    pass


@dataclass(frozen=True)
class Changes(Request[int | None]):
    pass


@dataclass(frozen=True)
class Create(Request[None]):
    schema: Schema
    sharded: bool = False  # custom sharding (shard keys), for tenants
    storage: Storage = field(default_factory=Storage)
    shards: int | None = None  # a server's shard_number and replication_factor
    replicas: int | None = None


@dataclass(frozen=True)
class Drop(Request[None]):
    pass


@dataclass(frozen=True)
class SetSignature(Request[None]):
    signature: dict[str, Any]


@dataclass(frozen=True)
class ChangeVectors(Request[None]):
    add: VectorField | None = None  # a new named vector, stored as `storage` says for its kind
    drop: str | None = None  # a named vector to delete from every point
    storage: Storage = field(default_factory=Storage)


@dataclass(frozen=True)
class IndexPayload(Request[None]):
    field: str
    kind: str  # keyword, integer, float, bool, datetime, text, uuid, geo; "tenant": a tenant keyword


@dataclass(frozen=True)
class Optimize(Request[None]):
    pass


@dataclass(frozen=True)
class Write(Request[None]):
    points: Sequence[Point]
    merge: bool = False  # True: set these vectors of existing points, merge their payload keys


@dataclass(frozen=True)
class SetPayloads(Request[None]):
    points: Sequence[Point]  # ids and whole new payloads (their vectors are not read)


@dataclass(frozen=True)
class Delete(Request[None]):
    filter: Filter


@dataclass(frozen=True)
class Count(Request[int]):
    filter: Filter | None = None


@dataclass(frozen=True)
class ScrollPage(Request[tuple[list[Found], "Offset"]]):
    filter: Filter | None = None
    limit: int = PAGE
    offset: Offset = None  # where the page starts: the last page's next offset
    with_vectors: bool = False


@dataclass(frozen=True)
class Query(Request[list[Found]]):
    plan: QueryPlan
    group_by: str | None = None  # a payload path: the best `plan.limit` groups, flattened
    group_size: int = 1  # (only where the engine `groups`)


@dataclass(frozen=True)
class QueryBatch(Request[list[list[Found]]]):
    plans: Sequence[QueryPlan]


@dataclass(frozen=True)
class ShardKeys(Request[list[str]]):
    pass


@dataclass(frozen=True)
class CreateShardKey(Request[None]):
    key: str
    partial: bool = False


@dataclass(frozen=True)
class MoveTenant(Request[None]):
    filter: Filter
    source: str
    target: str


SERVER_ONLY = (ShardKeys, CreateShardKey, MoveTenant)  # shard keys: a Qdrant server's (custom sharding)


def ask(request: Request[R]) -> Generator[Request[R], Any, R]:
    """Steps: `request`, run by the engine; its result, typed as the request says."""
    result: R = yield request
    return result


def scroll(filter: Filter | None, limit: int | None) -> Generator[Request[tuple[list[Found], Offset]], Any, list[Found]]:
    """Steps: every stored point matching `filter` (at most `limit`), a page per request."""
    found: list[Found] = []
    offset: Offset = None
    while True:
        size = PAGE if limit is None else min(PAGE, limit - len(found))
        page, offset = yield from ask(ScrollPage(filter, size, offset))
        found.extend(page)
        if offset is None or (limit is not None and len(found) >= limit):
            return found
