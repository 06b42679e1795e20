"""Engine requests: what the core asks of an engine, engine-neutral and free of I/O.

An engine compiles each request to its own call and runs it (`Engine.run`). Rules every engine
shares live here once: the page size of scrolls (the core pages, engines return one page), the
`Found` result, and `scroll`, the steps that page through a filter.

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

from dataclasses import dataclass, field
from typing import Any, Generator, Sequence

from typing_extensions import dataclass_transform

from ..qdrant.filter_tree import Filter
from ..qdrant.payload import Point
from ..qdrant.query import QueryPlan
from ..qdrant.schema import Schema, VectorField
from ..qdrant.storage import Storage

PAGE = 256  # points per scroll page


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

    def __reduce__(self) -> tuple:  # from edge's worker process: the id as a string
        return Found, (self.id, self.payload, self.score, self.vectors)

    def __repr__(self) -> str:
        return f"Found(id={self.id!r}, score={self.score!r}, payload={self.payload!r})"


@dataclass(frozen=True)
class Route:
    """A shard key, and the shared one requests go to while the target does not exist."""
    target: str
    fallback: str | None = None


@dataclass_transform(frozen_default=True)
@dataclass(frozen=True)
class Request:
    """Base of the requests: each subclass is a frozen dataclass of its fields."""

    shard: Route | None = field(default=None, kw_only=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(frozen=True)(cls)


# Ordered so that no two runs of declarations look alike (the `duplicates` tool reads shapes).
class QueryBatch(Request):
    plans: Sequence[QueryPlan]


class SetSignature(Request):
    signature: dict[str, Any]


class Optimize(Request):
    pass


class ChangeVectors(Request):
    add: VectorField | None = None  # a new named vector, stored as `storage` says for its kind
    drop: str | None = None  # a named vector to delete from every point
    storage: Storage = Storage()


class IndexPayload(Request):
    field: str
    kind: str  # keyword, integer, float, bool, datetime, text, uuid, geo; "tenant": a tenant keyword


class GetSchema(Request):
    pass


class Drop(Request):
    pass


class Delete(Request):
    filter: Filter


class Write(Request):
    points: Sequence[Point]
    merge: bool = False  # True: set these vectors of existing points, merge their payload keys


class SetPayloads(Request):
    points: Sequence[Point]  # ids and whole new payloads (their vectors are not read)


class Create(Request):
    schema: Schema
    sharded: bool = False  # custom sharding (shard keys), for tenants
    storage: Storage = Storage()
    shards: int | None = None  # a server's shard_number and replication_factor
    replicas: int | None = None


class ShardKeys(Request):
    pass


class MoveTenant(Request):
    filter: Filter
    source: str
    target: str


class CreateShardKey(Request):
    key: str
    partial: bool = False


class Count(Request):
    filter: Filter | None = None


class ScrollPage(Request):
    filter: Filter | None = None
    limit: int = PAGE
    offset: Any = None
    with_vectors: bool = False


class Query(Request):
    plan: QueryPlan
    group_by: str | None = None  # a payload path: the best `plan.limit` groups, flattened
    group_size: int = 1  # (only where the engine `groups`)


class Changes(Request):
    pass


SERVER_ONLY = (ShardKeys, CreateShardKey, MoveTenant)  # shard keys: a Qdrant server's (custom sharding)


def scroll(filter: Filter | None, limit: int | None) -> Generator[ScrollPage, Any, list[Found]]:
    """Steps: every stored point matching `filter` (at most `limit`), a page per request."""
    found: list[Found] = []
    offset = None
    while True:
        size = PAGE if limit is None else min(PAGE, limit - len(found))
        page, offset = yield ScrollPage(filter, size, offset)
        found.extend(page)
        if offset is None or (limit is not None and len(found) >= limit):
            return found
