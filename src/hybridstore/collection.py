"""Collection management: what an index knows of its collection, and the steps (see `driver`)
that set it up, check it against the models and keep that knowledge.

The collection is checked when an index opens (`ensure`): vectors and the recorded models must
match (`rules.accept`), payload indexes are declared, and the points lacking each vector are
counted. Another index, process or machine may change the collection after that (a reembed
adding a vector, a writer whose models lack it): before each write `current` reads the vectors
and models again and re-checks them if they changed, and after each search `verify` counts the
points lacking a vector it used. Where the engine sees every writer (`Engine.changes`: the
embedded engines) both cost no I/O while nothing that could leave a gap happened.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from . import rules
from .driver import Ensure, Steps, Work
from .engine.requests import (Changes, Count, Create, CreateShardKey, Delete, Drop, GetSchema, IndexPayload,
                              MoveTenant, Optimize, Route, SetSignature, ShardKeys)
from .errors import ConfigurationError, InvalidInputError
from .inference import Models
from .qdrant import filters, payload
from .qdrant import query as qplan
from .qdrant import signature as sig
from .qdrant.layouts import get_layout
from .qdrant.schema import DEFAULT_NAMES, Schema
from .settings import SHARED_SHARD, Settings
from .qdrant.storage import Storage, effective


class Collection:
    """One collection as an index sees it: names and layout from the settings, and what it
    learned (schema and signature, the points lacking each vector, writes since optimize).
    With a `tenant`, everything is confined to that tenant's records (`confine`, `pid`)."""

    def __init__(self, name: str, models: Models, settings: Settings, tenant: str | None = None) -> None:
        self.name, self.models, self.settings, self.tenant = name, models, settings, tenant
        self.tenant_key = settings.tenant_key  # or the collection's own, once read (`tenant_key_of`)
        self.names = {**DEFAULT_NAMES, **settings.vector_names}
        self.layout = get_layout(settings.payload_layout)
        self.schema: Schema | None = None  # set last, once the collection is ready to use
        self.want: Schema | None = None  # what the models write (schema + signature)
        self.unsigned: list[str] = []  # vectors whose models the collection has no record of
        self.lacking: dict[str, int] = {}  # points without each vector, as last counted
        self.schema_at: int | None = None  # the engine's `changes` when the schema was read
        self.counted_at: dict[str, int | None] = {}  # ... when each vector's gaps were counted
        self.written = 0  # points written since the last optimize, by this index
        self.stats = {"embedded": 0, "unchanged": 0, "payload_only": 0}
        self.storage = settings.storage or Storage()  # the collection's own, once checked
        sharded = settings.tenant_shards is not None and tenant is not None
        self.route = Route(tenant, SHARED_SHARD) if sharded else None  # see driver.route
        self.shard_pending = settings.tenant_shards == "dedicated" and tenant is not None

    def ready(self, create: bool) -> bool:
        """Checked already (and, to write, the tenant's own shard key made where it gets one)."""
        return self.schema is not None and not (create and self.shard_pending)

    def index_fields(self) -> list[tuple[str, str]]:
        """doc_id always (delete-by-document), the tenant key (a tenant index), plus the
        metadata keys the settings declare."""
        prefix = self.layout.metadata_prefix
        declared = [(filters.payload_path(prefix, k), v) for k, v in self.settings.payload_indexes.items()]
        key = self.tenant_key
        tenant = [(filters.payload_path(prefix, key), "tenant")] if key else []
        return [("doc_id", "keyword"), *tenant, *declared]

    def pid(self, record_id: str) -> str:
        """The point id of a record id: namespaced per tenant in a tenant's view."""
        return payload.point_id(record_id) if self.tenant is None else \
            payload.tenant_point_id(self.tenant, record_id)

    @property
    def spans_tenants(self) -> bool:
        """The unscoped (administrator's) index of a collection of tenants: record ids are
        per tenant there, so ids alone do not name one record (see `ingest.selector`)."""
        return self.tenant is None and self.tenant_key is not None

    def confine(self, flt: Any) -> Any:
        """`flt` AND the tenant's condition, outside whatever the caller passed."""
        return flt if self.tenant is None else filters.and_filters(flt, self.tenant_filter())

    def tenant_filter(self) -> Any:
        return filters.field_equals(filters.payload_path(self.layout.metadata_prefix, self.tenant_key), self.tenant)

    def count_written(self, n: int) -> bool:
        """Count `n` written points; True when it may be time to build the HNSW graphs
        (`after_writes` decides)."""
        self.written += n
        threshold = self.settings.optimize_threshold
        return threshold is not None and self.written >= threshold


def ensure(col: Collection, create: bool, dense_size: int | None) -> Steps:
    """Check the collection against the models (create it if asked and missing)."""
    if col.ready(create):  # another thread or task did, while this one waited
        return
    if col.schema is not None:
        return (yield from _own_shard(col))
    want = yield Work(rules.expected, col.models, col.names, dense_size)
    if col.tenant_key is not None:  # recorded with the collection (see `tenant_key_of`)
        want = Schema(want.fields, {**want.signature, sig.TENANT_KEY: col.tenant_key})
    seen = yield Changes()
    found = rules.known_kinds((yield GetSchema()))
    schema, unsigned = rules.accept(col.name, found, want, create)
    if found is not None and tenant_key_of(col, found):
        signed = {**(found.signature or sig.collection_signature({})), sig.TENANT_KEY: col.tenant_key}
        yield SetSignature(signed)
        schema = replace(schema, signature=signed)
    col.storage = effective(col.name, col.settings.storage, found)
    if found is None:
        yield Create(schema, sharded=col.settings.tenant_shards is not None, storage=col.storage,
                     shards=col.settings.shards, replicas=col.settings.replicas)
        if col.settings.tenant_shards is not None:
            yield CreateShardKey(SHARED_SHARD)
    for field, kind in col.index_fields():
        yield IndexPayload(field, kind)
    lacking = {}
    for f in schema.fields:
        lacking[f.name] = 0 if found is None else (yield Count(lacking_filter(col, schema, f)))
    col.schema_at, col.counted_at = seen, dict.fromkeys(lacking, seen)
    col.want, col.unsigned, col.lacking, col.schema = want, unsigned, lacking, schema
    if create:
        yield from _own_shard(col)


def _own_shard(col: Collection) -> Steps:
    """With tenant_shards="dedicated", the tenant's own shard key, before its first write."""
    if col.shard_pending and col.tenant not in (yield ShardKeys()):
        yield CreateShardKey(col.tenant)
    col.shard_pending = False


def reopen(col: Collection, create: bool, dense_size: int | None = None) -> Steps:
    """Check (and with `create`, create) the collection now, again if it was checked before."""
    if not create:
        col.schema = None
    yield Ensure(create, dense_size)


def exists(col: Collection) -> Steps:
    if col.schema is not None:
        return True
    found = yield GetSchema()
    if found is not None:
        tenant_key_of(col, found)  # checked or learned; recorded by the next `ensure`
    return found is not None


def tenant_key_of(col: Collection, found: Schema) -> bool:
    """The collection's tenant key against the index's: another one is refused (it would
    change who sees what); an index opened without one takes the collection's (the unscoped
    index then knows ids are per tenant). True when the collection has none recorded and
    this index has one: record it (collections made before it was recorded)."""
    recorded = (found.signature or {}).get(sig.TENANT_KEY)
    if recorded is not None and col.settings.tenant_key not in (None, recorded):
        raise ConfigurationError(
            f"collection {col.name!r} keeps its tenants apart by the metadata key {recorded!r}, not "
            f"{col.settings.tenant_key!r}: open it with tenant_key={recorded!r} (another key would "
            "change which records each tenant sees)")
    if recorded is not None:
        col.tenant_key = recorded
    return recorded is None and col.tenant_key is not None


def sign(col: Collection) -> Steps:
    """Record the models of vectors the collection has no record of (said once if it had none)."""
    if not col.unsigned:
        return
    if not sig.vectors_of(col.schema.signature):  # new vectors of a signed one need no word
        rules.recorded_now(col.name, col.unsigned, col.want)
    added = {n: sig.vectors_of(col.want.signature)[n] for n in col.unsigned}
    signed = rules.with_vectors(col.schema.signature, added)
    yield SetSignature(signed)
    col.unsigned, col.schema = [], Schema(col.schema.fields, signed)


def complete(col: Collection, req: qplan.SearchRequest) -> Steps:
    """Before a search: recount the gaps known of, and refuse while there are any."""
    yield from _refuse(col, req, _gaps(col, req))


def _refuse(col: Collection, req: qplan.SearchRequest, fields: list[Any]) -> Steps:
    for field in fields:
        col.lacking[field.name] = yield Count(col.confine(lacking_filter(col, col.schema, field)))
    for field in _gaps(col, req):
        raise rules.missing_vectors(col.name, field, col.lacking[field.name])


def current(col: Collection, dense_size: int | None) -> Steps:
    """Before a write: the collection's vectors and models as stored now. Changed since this
    index read them (another one added a vector): checked again, as on opening."""
    seen = yield Changes()
    if seen is not None and seen == col.schema_at:
        return
    found = yield GetSchema()
    if _shape(found) != _shape(col.schema):
        col.schema = None
        yield Ensure(True, dense_size)
    else:
        col.schema_at = seen


def _shape(schema: Schema | None) -> tuple:
    if schema is None:
        return ()
    return sorted(f.name for f in schema.fields), schema.signature


def verify(col: Collection, req: qplan.SearchRequest) -> Steps:
    """After a search: no point lacks a vector it used, whatever changed the collection since
    this index counted (another index, process or machine). One count of the points lacking
    any of them, none while the engine saw no change that could leave a gap."""
    seen = yield Changes()
    fields = [f for f in _used(col, req) if seen is None or col.counted_at.get(f.name) != seen]
    if not fields:
        return
    flt = filters.any_of(*[lacking_filter(col, col.schema, f) for f in fields])
    if (yield Count(col.confine(flt))) == 0:
        col.lacking.update(dict.fromkeys((f.name for f in fields), 0))
        col.counted_at.update(dict.fromkeys((f.name for f in fields), seen))
        return
    yield from _refuse(col, req, fields)  # each vector's count, for the error


def _used(col: Collection, req: qplan.SearchRequest) -> list[Any]:
    fields = [col.schema.by_name(col.names[k]) for k in qplan.query_kinds(req)]
    return [f for f in fields if f is not None]


def _gaps(col: Collection, req: qplan.SearchRequest) -> list[Any]:
    return [f for f in _used(col, req) if col.lacking.get(f.name, 0) > 0]


def lacking_filter(col: Collection, schema: Schema | None, field: Any, except_ids: list[str] | None = None) -> Any:
    """Points that should have `field`'s vector and do not (an image vector: those with an
    image; a text vector: all but images alone)."""
    images = schema is not None and schema.by_kind("image") is not None
    return filters.lacking_vector(field.name, except_ids, col.layout if images else None, field.kind)


def drop(col: Collection) -> Steps:
    if col.tenant is not None:  # a view's drop would take every tenant's records with it
        raise InvalidInputError(
            f"drop() deletes the whole collection {col.name!r}, every tenant's records; "
            f"to delete tenant {col.tenant!r}'s records call drop_tenant() on its view")
    yield Drop()
    col.schema = None


def after_writes(col: Collection, n: int) -> Steps:
    """Build the graphs once the points written since the last build reach the threshold and
    as many as were there before (at most TAIL): each build at least doubles what is indexed,
    so a bulk load builds about twice in all instead of once per threshold (which grew with
    the square of the collection: 108 s of 163 s at 100k points), and searches brute-force at
    most TAIL unindexed points."""
    if not col.count_written(n):
        return
    before = (yield Count()) - col.written
    if col.written >= min(max(col.settings.optimize_threshold, before), TAIL * col.settings.optimize_threshold):
        yield from optimize(col)


TAIL = 10  # thresholds: the most points left to a brute-force search between builds


def optimize(col: Collection) -> Steps:
    if (yield from exists(col)):
        yield Optimize()
    col.written = 0


def count(col: Collection, filter: Any) -> Steps:
    flt = col.confine(filters.to_filter(filter, col.layout.metadata_prefix))
    return (yield Count(flt)) if (yield from exists(col)) else 0


def drop_tenant(col: Collection) -> Steps:
    """Delete every record of the view's tenant."""
    if col.tenant is None:
        raise InvalidInputError("drop_tenant() is for a tenant's view: index.tenant('name').drop_tenant()")
    if (yield from exists(col)):
        yield Delete(col.tenant_filter())
        if col.settings.tenant_shards == "tiered":  # copies left in the shared shard by a promote
            yield Delete(col.tenant_filter(), shard=Route(SHARED_SHARD))


def promote(col: Collection, finish: bool) -> Steps:
    """tenant_shards="tiered": move the view's tenant from the shared shard to its own shard
    key. The server copies its points in the background and routes its requests to the new
    shard once it is active; then `finish` deletes the copies left in the shared shard."""
    if col.settings.tenant_shards != "tiered" or col.tenant is None:
        raise InvalidInputError("promote() is for a tenant's view of a collection made with "
                                "tenant_shards='tiered': index.tenant('name').promote()")
    yield Ensure(False)
    promoted = col.tenant in (yield ShardKeys())
    if finish and not promoted:
        raise InvalidInputError(f"tenant {col.tenant!r} has no shard of its own: promote() it first, "
                                "and promote(finish=True) once Qdrant reports that shard active")
    if finish:
        yield Delete(col.tenant_filter(), shard=Route(SHARED_SHARD))
    elif not promoted:
        yield CreateShardKey(col.tenant, partial=True)
        yield MoveTenant(col.tenant_filter(), SHARED_SHARD, col.tenant)


def info(col: Collection, storage: Mapping[str, Any]) -> Steps:
    """The collection as stored beside the models configured now, and the storage."""
    schema = rules.known_kinds((yield GetSchema()))
    configured = sig.vectors_of((yield Work(rules.expected, col.models, col.names, None)).signature)
    stored = sig.vectors_of(schema.signature) if schema else {}
    total = (yield Count(col.confine(None))) if schema else 0
    vectors = []
    for f in schema.fields if schema else ():
        lacking = yield Count(col.confine(lacking_filter(col, schema, f)))
        having = yield Count(col.confine(filters.having_vector(f.name)))
        mine, theirs = configured.get(f.name), stored.get(f.name)
        vectors.append({
            "name": f.name, "kind": f.kind, "size": f.size, "points": having,
            "lacking": lacking, "stored_model": sig.label(theirs) if theirs else None,
            "configured_model": sig.label(mine) if mine else None,
            "same_model": sig.compare(theirs, mine)[0] is None if theirs and mine else None,
        })
    return {"collection": col.name, "tenant": col.tenant, "storage": dict(storage), "exists": schema is not None,
            "count": total, "vectors": vectors, "signature_recorded": bool(stored),
            "storage_settings": schema.storage.stored() if schema and schema.storage else None,
            "models": col.models.describe()}
