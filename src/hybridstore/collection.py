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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, overload

from . import rules
from .engine.requests import (
    Changes,
    Count,
    Create,
    CreateShardKey,
    Drop,
    GetSchema,
    IndexPayload,
    Optimize,
    Route,
    SetSignature,
    ShardKeys,
    ask,
)
from .errors import ConfigurationError, InvalidInputError
from .inference import Models
from .inference.images import ImageEmbedder
from .qdrant import filters, payload
from .qdrant import query as qplan
from .qdrant import signature as sig
from .qdrant.filter_tree import Filter
from .qdrant.layouts import Layout, get_layout
from .qdrant.schema import DEFAULT_NAMES, OPTIONAL, Schema, VectorField
from .qdrant.storage import Storage, effective
from .settings import SHARED_SHARD, Settings
from .steps import Ensure, Steps, ask_work

if TYPE_CHECKING:
    from .records import Record


@dataclass
class State:
    """What an index learned of its collection. Written only here, through the transitions
    below; `schema` is set last, once the collection is ready to use (None: check it again)."""

    tenant_key: str | None  # the settings', or the collection's own once read (`tenant_key_of`)
    storage: Storage  # the settings', or the collection's own once checked
    shard_pending: bool  # tenant_shards="dedicated": the tenant's own shard key not made yet
    schema: Schema | None = None
    want: Schema | None = None  # what the models write (schema + signature)
    unsigned: list[str] = field(default_factory=list)  # vectors whose models are not recorded
    lacking: dict[str, int] = field(default_factory=dict)  # points without each vector, as counted
    schema_at: int | None = None  # the engine's `changes` when the schema was read
    counted_at: dict[str, int | None] = field(default_factory=dict)  # ... when each vector's gaps were
    written: int = 0  # points written since the last optimize, by this index
    stats: dict[str, int] = field(default_factory=lambda: {"embedded": 0, "unchanged": 0, "payload_only": 0})

    def invalidate(self) -> None:
        """Check the collection again at the next call (it, or the models, changed)."""
        self.schema = None

    def checked(self, schema: Schema, want: Schema, unsigned: list[str], lacking: dict[str, int],
                seen: int | None) -> None:
        self.schema_at, self.counted_at = seen, dict.fromkeys(lacking, seen)
        self.want, self.unsigned, self.lacking, self.schema = want, unsigned, lacking, schema

    def signed(self, schema: Schema) -> None:
        self.unsigned, self.schema = [], schema

    def unchanged_at(self, seen: int | None) -> None:
        self.schema_at = seen

    def counted(self, name: str, lacking: int) -> None:
        self.lacking[name] = lacking

    def complete_at(self, names: list[str], seen: int | None) -> None:
        """None of these vectors is lacking, as of the engine's `seen` changes."""
        self.lacking.update(dict.fromkeys(names, 0))
        self.counted_at.update(dict.fromkeys(names, seen))

    def wrote(self, n: int) -> None:
        self.written += n

    def optimized(self) -> None:
        self.written = 0

    def added(self, stats: dict[str, int]) -> None:
        self.stats = stats


@dataclass(frozen=True)
class Collection:
    """One collection as an index sees it: its configuration (names and layout from the
    settings) and `state`, what it learned. With a `tenant`, everything is confined to that
    tenant's records (`confine`, `pid`)."""

    name: str
    models: Models
    settings: Settings
    tenant: str | None
    names: dict[str, str]
    layout: Layout
    route: Route | None  # see driver.route
    state: State

    @classmethod
    def of(cls, name: str, models: Models, settings: Settings, tenant: str | None = None) -> Collection:
        route = Route(tenant, SHARED_SHARD) if settings.tenant_shards is not None and tenant is not None else None
        state = State(settings.tenant_key, settings.storage or Storage(),
                      settings.tenant_shards == "dedicated" and tenant is not None)
        return cls(name, models, settings, tenant, {**DEFAULT_NAMES, **settings.vector_names},
                   get_layout(settings.payload_layout), route, state)

    def with_models(self, models: Models) -> Collection:
        """Other models: the collection is checked against them at the next call."""
        self.state.invalidate()
        return replace(self, models=models)

    @property
    def storage(self) -> Storage:
        return self.state.storage

    @property
    def schema(self) -> Schema:
        """The schema as checked (an `Ensure` came first)."""
        if self.state.schema is None:
            raise RuntimeError(f"collection {self.name!r} used before it was checked")
        return self.state.schema

    def image_model(self) -> ImageEmbedder:
        """The image model, for steps that embed an image (which the checks allow only with one)."""
        if self.models.image is None:
            raise InvalidInputError("this index has no image model; configure Models(image=...)")
        return self.models.image

    def ready(self, create: bool) -> bool:
        """Checked already (and, to write, the tenant's own shard key made where it gets one)."""
        return self.state.schema is not None and not (create and self.state.shard_pending)

    def index_fields(self) -> list[tuple[str, str]]:
        """doc_id always (delete-by-document), the tenant key (a tenant index), plus the
        metadata keys the settings declare."""
        prefix = self.layout.metadata_prefix
        declared = [(filters.payload_path(prefix, k), v) for k, v in self.settings.payload_indexes.items()]
        key = self.state.tenant_key
        tenant = [(filters.payload_path(prefix, key), "tenant")] if key else []
        return [("doc_id", "keyword"), *tenant, *declared]

    def pid(self, record_id: str) -> str:
        """The point id of a record id: namespaced per tenant in a tenant's view."""
        return payload.point_id(record_id) if self.tenant is None else \
            payload.tenant_point_id(self.tenant, record_id)

    def pid_of(self, record: Record) -> str:
        """The point id of a record read back: on the unscoped index of a collection of
        tenants, a tenant's record is its tenant's point (the tenant named in its metadata)."""
        key = self.state.tenant_key
        if self.spans_tenants and key is not None and key in record.metadata:
            return payload.tenant_point_id(str(record.metadata[key]), record.id)
        return self.pid(record.id)

    @property
    def spans_tenants(self) -> bool:
        """The unscoped (administrator's) index of a collection of tenants: record ids are
        per tenant there, so ids alone do not name one record (see `selection`)."""
        return self.tenant is None and self.state.tenant_key is not None

    @overload
    def confine(self, flt: Filter) -> Filter: ...

    @overload
    def confine(self, flt: Filter | None) -> Filter | None: ...

    def confine(self, flt: Filter | None) -> Filter | None:
        """`flt` AND the tenant's condition, outside whatever the caller passed."""
        return flt if self.tenant is None else filters.and_filters(flt, self.tenant_filter())

    def view(self) -> tuple[str, str]:
        """A tenant's view: its tenant key and its tenant."""
        key, tenant = self.state.tenant_key, self.tenant
        if key is None or tenant is None:
            raise InvalidInputError("this is for a tenant's view: index.tenant('name')")
        return key, tenant

    def tenant_filter(self) -> Filter:
        key, tenant = self.view()
        return filters.field_equals(filters.payload_path(self.layout.metadata_prefix, key), tenant)

    def count_written(self, n: int) -> bool:
        """Count `n` written points; True when it may be time to build the HNSW graphs
        (`after_writes` decides)."""
        self.state.wrote(n)
        threshold = self.settings.optimize_threshold
        return threshold is not None and self.state.written >= threshold


def ensure(col: Collection, create: bool, dense_size: int | None) -> Steps[None]:
    """Check the collection against the models (create it if asked and missing). Run by the
    driver for an `Ensure`, under the index's lock."""
    if col.ready(create):  # another thread or task did, while this one waited
        return
    if col.state.schema is not None:
        yield from _own_shard(col)
        return
    want = yield from ask_work(rules.expected, col.models, col.names, dense_size)
    key = col.state.tenant_key
    if key is not None:  # recorded with the collection (see `tenant_key_of`)
        want = Schema(want.fields, {**(want.signature or {}), sig.TENANT_KEY: key})
    seen = yield from ask(Changes())
    stored = yield from ask(GetSchema())
    found = rules.known_kinds(stored)
    schema, unsigned = rules.accept(col.name, found, want, create)
    if found is not None and tenant_key_of(col, found):
        signed = {**(found.signature or sig.collection_signature({})), sig.TENANT_KEY: col.state.tenant_key}
        yield SetSignature(signed)
        schema = replace(schema, signature=signed)
    col.state.storage = effective(col.name, col.settings.storage, found)
    if found is None:
        yield Create(schema, sharded=col.settings.tenant_shards is not None, storage=col.state.storage,
                     shards=col.settings.shards, replicas=col.settings.replicas)
        if col.settings.tenant_shards is not None:
            yield CreateShardKey(SHARED_SHARD)
    for name, kind in col.index_fields():
        yield IndexPayload(name, kind)
    lacking = {}
    for f in schema.fields:
        lacking[f.name] = 0
        if found is not None:
            lacking[f.name] = yield from ask(Count(lacking_filter(col, schema, f)))
    col.state.checked(schema, want, unsigned, lacking, seen)
    if create:
        yield from _own_shard(col)


def _own_shard(col: Collection) -> Steps[None]:
    """With tenant_shards="dedicated", the tenant's own shard key, before its first write."""
    tenant = col.tenant
    if col.state.shard_pending and tenant is not None:
        keys = yield from ask(ShardKeys())
        if tenant not in keys:
            yield CreateShardKey(tenant)
    col.state.shard_pending = False


def reopen(col: Collection, create: bool, dense_size: int | None = None) -> Steps[None]:
    """Check (and with `create`, create) the collection now, again if it was checked before."""
    if not create:
        col.state.invalidate()
    yield Ensure(create, dense_size)


def exists(col: Collection) -> Steps[bool]:
    if col.state.schema is not None:
        return True
    found = yield from ask(GetSchema())
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
        col.state.tenant_key = recorded
    return recorded is None and col.state.tenant_key is not None


def sign(col: Collection) -> Steps[None]:
    """Record the models of vectors the collection has no record of (said once if it had none)."""
    state = col.state
    if not state.unsigned or state.want is None:
        return
    schema = col.schema
    if not sig.vectors_of(schema.signature):  # new vectors of a signed one need no word
        rules.recorded_now(col.name, state.unsigned, state.want)
    added = {n: sig.vectors_of(state.want.signature)[n] for n in state.unsigned}
    signed = rules.with_vectors(schema.signature, added)
    yield SetSignature(signed)
    state.signed(Schema(schema.fields, signed))


def complete(col: Collection, req: qplan.SearchRequest) -> Steps[None]:
    """Before a search: recount the gaps known of, and refuse while there are any."""
    yield from _refuse(col, req, _gaps(col, req))


def _refuse(col: Collection, req: qplan.SearchRequest, fields: list[VectorField]) -> Steps[None]:
    for f in fields:
        n = yield from ask(Count(col.confine(lacking_filter(col, col.schema, f))))
        col.state.counted(f.name, n)
    for f in _gaps(col, req):
        raise rules.missing_vectors(col.name, f, col.state.lacking[f.name])


def current(col: Collection, dense_size: int | None) -> Steps[None]:
    """Before a write: the collection's vectors and models as stored now. Changed since this
    index read them (another one added a vector): checked again, as on opening."""
    seen = yield from ask(Changes())
    if seen is not None and seen == col.state.schema_at:
        return
    found = yield from ask(GetSchema())
    if _shape(found) != _shape(col.state.schema):
        col.state.invalidate()
        yield Ensure(True, dense_size)
    else:
        col.state.unchanged_at(seen)


def _shape(schema: Schema | None) -> tuple[object, ...]:
    if schema is None:
        return ()
    return sorted(f.name for f in schema.fields), schema.signature


def verify(col: Collection, req: qplan.SearchRequest) -> Steps[None]:
    """After a search: no point lacks a vector it used, whatever changed the collection since
    this index counted (another index, process or machine). One count of the points lacking
    any of them, none while the engine saw no change that could leave a gap."""
    seen = yield from ask(Changes())
    fields = [f for f in _used(col, req) if seen is None or col.state.counted_at.get(f.name) != seen]
    if not fields:
        return
    flt = filters.any_of(*[lacking_filter(col, col.schema, f) for f in fields])
    n = yield from ask(Count(col.confine(flt)))
    if n == 0:
        col.state.complete_at([f.name for f in fields], seen)
        return
    yield from _refuse(col, req, fields)  # each vector's count, for the error


def _used(col: Collection, req: qplan.SearchRequest) -> list[VectorField]:
    fields = [col.schema.by_name(col.names[k]) for k in qplan.query_kinds(req)]
    return [f for f in fields if f is not None]


def _gaps(col: Collection, req: qplan.SearchRequest) -> list[VectorField]:
    return [f for f in _used(col, req) if col.state.lacking.get(f.name, 0) > 0]


def lacking_filter(col: Collection, schema: Schema | None, vector: VectorField,
                   except_ids: list[str] | None = None) -> Filter:
    """Points that should have `vector` and do not (an image vector: those with an image; a
    text vector: all but images alone)."""
    images = schema is not None and any(schema.by_kind(k) is not None for k in OPTIONAL)
    return filters.lacking_vector(vector.name, except_ids, col.layout if images else None, vector.kind)


def drop(col: Collection) -> Steps[None]:
    if col.tenant is not None:  # a view's drop would take every tenant's records with it
        raise InvalidInputError(
            f"drop() deletes the whole collection {col.name!r}, every tenant's records; "
            f"to delete tenant {col.tenant!r}'s records call drop_tenant() on its view")
    yield Drop()
    col.state.invalidate()


def after_writes(col: Collection, n: int) -> Steps[None]:
    """Build the graphs once the points written since the last build reach the threshold and
    as many as were there before (at most TAIL): each build at least doubles what is indexed,
    so a bulk load builds about twice in all instead of once per threshold (which grew with
    the square of the collection: 108 s of 163 s at 100k points), and searches brute-force at
    most TAIL unindexed points."""
    threshold = col.settings.optimize_threshold
    if not col.count_written(n) or threshold is None:
        return
    total = yield from ask(Count())
    before = total - col.state.written
    if col.state.written >= min(max(threshold, before), TAIL * threshold):
        yield from optimize(col)


TAIL = 10  # thresholds: the most points left to a brute-force search between builds


def optimize(col: Collection) -> Steps[None]:
    there = yield from exists(col)
    if there:
        yield Optimize()
    col.state.optimized()


def count(col: Collection, filter: object) -> Steps[int]:
    flt = col.confine(filters.to_filter(filter, col.layout.metadata_prefix))
    there = yield from exists(col)
    if not there:
        return 0
    n = yield from ask(Count(flt))
    return n


def info(col: Collection, storage: Mapping[str, object], compare: bool = True) -> Steps[dict[str, Any]]:
    """The collection as stored beside the models configured now (`compare`), and the storage."""
    stored_schema = yield from ask(GetSchema())
    schema = rules.known_kinds(stored_schema)
    configured = {}
    if compare:
        want = yield from ask_work(rules.expected, col.models, col.names, None)
        configured = sig.vectors_of(want.signature)
    stored = sig.vectors_of(schema.signature) if schema else {}
    total = 0
    if schema is not None:
        total = yield from ask(Count(col.confine(None)))
    vectors = []
    for f in schema.fields if schema else ():
        lacking = yield from ask(Count(col.confine(lacking_filter(col, schema, f))))
        having = yield from ask(Count(col.confine(filters.having_vector(f.name))))
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
            "models": col.models.describe() if compare else None}
