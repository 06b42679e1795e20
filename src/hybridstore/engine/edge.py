"""Engine over qdrant-edge (Qdrant's embedded Rust engine): one EdgeShard per collection.

Shards live in <root>/<collection>; root is `path`, or a private temporary folder for
location=":memory:" that close() removes. Every edge call holds the GIL and shards are not
documented as thread-safe, so each call holds one lock; its async twin runs that one call
in a worker thread. Edge never builds its HNSW index by itself: call optimize(collection).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import qdrant_edge as edge
from qdrant_client import models

from ..errors import ConfigurationError, EngineError, FilterError, StorageLockedError
from ..qdrant.payload import Point, SparseVec
from ..qdrant.query import RRF_DEFAULT_K, Fuse, QueryPlan, Stage
from ..qdrant.schema import Schema, VectorField
from .base import Engine, Found
from .folder import EDGE_CONFIG as CONFIG, FolderLock, check_layout, written_by

SIGNATURE = "hybridstore.json"  # beside CONFIG: which models made the vectors (edge has no metadata)
PAGE = 256
HNSW_EF = 128  # HNSW beam width for searches (at least the number of results asked for)
Op = tuple[str, Callable[[Any], Any]]  # (name for errors, call on the shard)


class EdgeEngine(Engine):
    def __init__(self, path: str | None = None, location: str | None = None) -> None:
        if location not in (None, ":memory:") or (path is not None and location is not None):
            raise ConfigurationError("EdgeEngine takes path=DIR or location=':memory:'")
        self.path = path
        self.root = os.path.abspath(path) if path else tempfile.mkdtemp(prefix="hybridstore-edge-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, True) if not path else None
        self._shards: dict[str, Any] = {}  # before the folder lock: dropped first when collected
        self._lock = threading.RLock()
        self._closed = False
        if path:
            check_layout(self.root, "edge")
        self.folder = FolderLock(self.root, "edge") if path else None

    # -- sync / async drivers: the only place shard calls are made ---------------------------
    def _run(self, collection: str, op: Op) -> Any:
        name, call = op
        with self._lock:
            shard = self._open(collection)
            if shard is None:
                raise EngineError(f"collection {collection!r} does not exist")
            with _mapped(name, self._dir(collection)):
                return call(shard)

    async def _arun(self, collection: str, op: Op) -> Any:
        return await asyncio.to_thread(self._run, collection, op)

    def _dir(self, collection: str) -> str:
        if not collection or collection in (".", "..") or "\0" in collection \
                or os.path.basename(collection) != collection:
            raise ConfigurationError(f"collection name {collection!r} is not a plain folder name")
        return os.path.join(self.root, collection)

    def _open(self, collection: str) -> Any:
        """The collection's shard, loaded on first use; None when it does not exist."""
        if self._closed:
            raise EngineError("this EdgeEngine is closed")
        if self.folder is not None:
            self.folder.require()
        folder = self._dir(collection)
        if collection not in self._shards and os.path.isfile(os.path.join(folder, CONFIG)):
            with _mapped("load", folder):
                self._shards[collection] = edge.EdgeShard.load(folder)
        return self._shards.get(collection)

    # -- operations, each built once and shared by both twins --------------------------------
    def schema(self, collection: str) -> Schema | None:
        with self._lock:
            return _schema_of(self._dir(collection)) if self._open(collection) else None

    def set_signature(self, collection: str, signature: dict[str, Any]) -> None:
        with self._lock:
            if self._open(collection) is None:
                raise EngineError(f"collection {collection!r} does not exist")
            _write_signature(self._dir(collection), signature)

    async def aset_signature(self, collection: str, signature: dict[str, Any]) -> None:
        await asyncio.to_thread(self.set_signature, collection, signature)

    def describe(self) -> dict[str, Any]:
        if not self.path:
            return {"engine": "edge", "location": ":memory:"}
        return {"engine": "edge", "path": self.root, "folder_written_by": written_by(self.root)}

    async def aschema(self, collection: str) -> Schema | None:
        return await asyncio.to_thread(self.schema, collection)

    def create(self, collection: str, schema: Schema) -> None:
        with self._lock:
            if self._open(collection) is not None:
                raise EngineError(f"collection {collection!r} already exists")
            with _mapped("create", self._dir(collection)):
                self._shards[collection] = edge.EdgeShard.create(self._dir(collection), _config(schema))
            if schema.signature is not None:
                _write_signature(self._dir(collection), schema.signature)

    async def acreate(self, collection: str, schema: Schema) -> None:
        await asyncio.to_thread(self.create, collection, schema)

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        self._run(collection, _upsert(points))

    async def aupsert(self, collection: str, points: Sequence[Point]) -> None:
        await self._arun(collection, _upsert(points))

    def query(self, collection: str, plan: QueryPlan) -> list[Found]:
        return self._run(collection, _query(plan))

    async def aquery(self, collection: str, plan: QueryPlan) -> list[Found]:
        return await self._arun(collection, _query(plan))

    def query_batch(self, collection: str, plans: Sequence[QueryPlan]) -> list[list[Found]]:
        return self._run(collection, _query_batch(plans))

    async def aquery_batch(self, collection: str, plans: Sequence[QueryPlan]) -> list[list[Found]]:
        return await self._arun(collection, _query_batch(plans))

    def scroll(self, collection: str, filter: models.Filter | None, limit: int | None) -> list[Found]:
        return self._run(collection, _scroll(filter, limit))

    async def ascroll(self, collection: str, filter: models.Filter | None, limit: int | None) -> list[Found]:
        return await self._arun(collection, _scroll(filter, limit))

    def delete(self, collection: str, filter: models.Filter) -> None:
        self._run(collection, _delete(filter))

    async def adelete(self, collection: str, filter: models.Filter) -> None:
        await self._arun(collection, _delete(filter))

    def count(self, collection: str, filter: models.Filter | None) -> int:
        return self._run(collection, _count(filter))

    async def acount(self, collection: str, filter: models.Filter | None) -> int:
        return await self._arun(collection, _count(filter))

    def drop(self, collection: str) -> None:
        with self._lock:
            shard = self._open(collection)  # loading first: never delete a shard held elsewhere
            if shard is None:
                return
            del self._shards[collection]
            with _mapped("close", self._dir(collection)):
                shard.close()
            shutil.rmtree(self._dir(collection))

    async def adrop(self, collection: str) -> None:
        await asyncio.to_thread(self.drop, collection)

    def add_vector(self, collection: str, field: VectorField) -> None:
        self._run(collection, _add_vector(field))

    async def aadd_vector(self, collection: str, field: VectorField) -> None:
        await self._arun(collection, _add_vector(field))

    def drop_vector(self, collection: str, name: str) -> None:
        self._run(collection, _drop_vector(name))

    async def adrop_vector(self, collection: str, name: str) -> None:
        await self._arun(collection, _drop_vector(name))

    def update_vectors(self, collection: str, points: Sequence[Point]) -> None:
        self._run(collection, _update_vectors(points))

    async def aupdate_vectors(self, collection: str, points: Sequence[Point]) -> None:
        await self._arun(collection, _update_vectors(points))

    def optimize(self, collection: str) -> bool:
        """Build the collection's HNSW index now; True when any segment changed."""
        return self._run(collection, ("optimize", lambda shard: shard.optimize()))

    async def aoptimize(self, collection: str) -> bool:
        return await self._arun(collection, ("optimize", lambda shard: shard.optimize()))

    def index_payload(self, collection: str, field: str, kind: str) -> None:
        self._run(collection, _index_payload(field, kind))

    async def aindex_payload(self, collection: str, field: str, kind: str) -> None:
        await self._arun(collection, _index_payload(field, kind))

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            shards, self._shards = self._shards, {}
            try:
                for name, shard in shards.items():
                    with _mapped("close", self._dir(name)):
                        shard.close()
            finally:
                if self._cleanup is not None:
                    self._cleanup()
                if self.folder is not None:
                    self.folder.release()

    def __repr__(self) -> str:
        return f"EdgeEngine(path={self.path!r})" if self.path else "EdgeEngine(location=':memory:')"


@contextlib.contextmanager
def _mapped(name: str, folder: str):
    try:
        yield
    except Exception as e:  # edge raises the bare Exception class only; anything else is a bug
        if type(e) is not Exception:
            raise
        if "WouldBlock" in str(e):  # the WAL is locked by another open shard
            raise StorageLockedError(
                f"the index at {folder} is already open in another process or HybridIndex; "
                "close that one first, or use a Qdrant server (url=...) for shared access"
            ) from e
        raise EngineError(f"qdrant-edge {name} failed: {e}") from e


def _config(schema: Schema) -> Any:
    dense, sparse = {}, {}
    for f in schema.fields:
        if f.kind == "sparse":
            sparse[f.name] = edge.EdgeSparseVectorParams(
                modifier=edge.Modifier.Idf if f.modifier == "idf" else None)
        elif f.kind == "late_interaction":  # rerank only: MaxSim, no HNSW graph (m=0);
            # edge wants every HNSW field, the other two are Qdrant's defaults
            dense[f.name] = edge.EdgeVectorParams(
                f.size, edge.Distance.Cosine,
                multivector_config=edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim),
                hnsw_config=edge.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10000))
        else:
            dense[f.name] = edge.EdgeVectorParams(f.size, edge.Distance.Cosine)
    if "" in dense and len(dense) > 1:
        raise EngineError("an unnamed dense vector cannot sit beside other dense vectors")
    return edge.EdgeConfig(vectors=dense, sparse_vectors=sparse)


def _write_signature(folder: str, signature: dict[str, Any]) -> None:
    tmp = os.path.join(folder, SIGNATURE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(signature, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, os.path.join(folder, SIGNATURE))  # never half a file


def _read_signature(folder: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(folder, SIGNATURE), encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None


def _schema_of(folder: str) -> Schema:
    with open(os.path.join(folder, CONFIG), encoding="utf-8") as fh:
        config = json.load(fh)
    fields = [VectorField(name, "late_interaction" if p.get("multivector_config") else "dense",
                          p["size"], str(p["distance"]).lower())
              for name, p in (config.get("vectors") or {}).items()]
    fields += [VectorField(name, "sparse", None, "cosine", "idf" if p.get("modifier") == "idf" else None)
               for name, p in (config.get("sparse_vectors") or {}).items()]
    return Schema(tuple(fields), _read_signature(folder))


def _vector(value: Any) -> Any:
    return edge.SparseVector(list(value.indices), list(value.values)) \
        if isinstance(value, SparseVec) else value


def _upsert(points: Sequence[Point]) -> Op:
    structs = [edge.Point(p.id, {n: _vector(v) for n, v in p.vectors.items()}, p.payload)
               for p in points]
    return "upsert", lambda shard: shard.update(edge.UpdateOperation.upsert_points(structs))


def _add_vector(field: VectorField) -> Op:
    ops = edge.UpdateOperation
    if field.kind == "sparse":
        op = ops.create_sparse_vector(field.name, modifier=edge.Modifier.Idf if field.modifier == "idf" else None)
    else:  # edge builds an HNSW graph for a late-interaction vector added later (no m=0 here)
        multi = edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim) \
            if field.kind == "late_interaction" else None
        op = ops.create_dense_vector(field.name, field.size, edge.Distance.Cosine, multivector_config=multi)
    return "add_vector", lambda shard: shard.update(op)


def _drop_vector(name: str) -> Op:
    op = edge.UpdateOperation.delete_vector_name(name)
    return "drop_vector", lambda shard: shard.update(op)


def _update_vectors(points: Sequence[Point]) -> Op:
    vectors = edge.UpdateOperation.update_vectors(
        [edge.PointVectors(p.id, {n: _vector(v) for n, v in p.vectors.items()}) for p in points])
    payloads = [edge.UpdateOperation.set_payload([p.id], p.payload) for p in points if p.payload]

    def call(shard: Any) -> None:
        shard.update(vectors)  # vectors first: a crash in between leaves a stale hash (re-embedded later)
        for op in payloads:
            shard.update(op)

    return "update_vectors", call


def _stage(stage: Stage, filter: Any) -> dict[str, Any]:
    """Keyword arguments of a Prefetch / QueryRequest for one stage of the plan."""
    if isinstance(stage, Fuse):
        if stage.method == "dbsf":
            query: Any = edge.Fusion.Dbsf()
        else:
            query = edge.Fusion.Rrf(k=stage.rrf_k or RRF_DEFAULT_K,
                                    weights=list(stage.weights) if stage.weights else None)
        return {"query": query, "prefetches": [_prefetch(s, filter) for s in stage.sources],
                "limit": stage.limit}
    vector = _vector(stage.vector)
    if stage.mmr_diversity is not None:  # edge takes MMR's lambda: 1 - diversity
        query = edge.Mmr(vector, 1.0 - stage.mmr_diversity, stage.mmr_candidates or stage.limit,
                         using=stage.using)
    else:
        query = edge.Query.Nearest(vector, using=stage.using)
    out = {"query": query, "limit": stage.limit}
    if stage.source is not None:
        out["prefetches"] = [_prefetch(stage.source, filter)]
    else:  # a graph search: edge's default beam is too narrow for good recall
        out["params"] = edge.SearchParams(hnsw_ef=max(HNSW_EF, stage.limit))
    return out


def _prefetch(stage: Stage, filter: Any) -> Any:
    return edge.Prefetch(filter=filter, **_stage(stage, filter))


def _request(plan: QueryPlan) -> Any:
    flt = _filter(plan.filter)
    return edge.QueryRequest(**{**_stage(plan.root, flt), "limit": plan.limit}, filter=flt,
                             score_threshold=plan.score_threshold, with_payload=True,
                             with_vector=False)


def _found(points: Any) -> list[Found]:
    return [Found(str(p.id), p.payload or {}, p.score) for p in points]


def _query(plan: QueryPlan) -> Op:
    request = _request(plan)
    return "query", lambda shard: _found(shard.query(request))


def _query_batch(plans: Sequence[QueryPlan]) -> Op:
    batch = edge.QueryBatchRequest([_request(p) for p in plans])
    return "query_batch", lambda shard: [_found(r) for r in shard.query_batch(batch)]


def _scroll(filter: models.Filter | None, limit: int | None) -> Op:
    flt = _filter(filter)

    def call(shard: Any) -> list[Found]:
        found: list[Found] = []
        offset = None
        while limit is None or len(found) < limit:  # edge pages (10 a page without a limit)
            size = PAGE if limit is None else min(PAGE, limit - len(found))
            page, offset = shard.scroll(edge.ScrollRequest(
                offset=offset, limit=size, filter=flt, with_payload=True, with_vector=False))
            found.extend(Found(str(r.id), r.payload or {}) for r in page)
            if offset is None:
                break
        return found

    return "scroll", call


def _delete(filter: models.Filter) -> Op:
    op = edge.UpdateOperation.delete_points_by_filter(_filter(filter))
    return "delete", lambda shard: shard.update(op)


def _count(filter: models.Filter | None) -> Op:
    request = edge.CountRequest(exact=True, filter=_filter(filter))
    return "count", lambda shard: int(shard.count(request))


# -- qdrant-client filters -> edge filters ---------------------------------------------------------
def _filter(f: models.Filter | None) -> Any:
    if f is None:
        return None
    min_should = None
    if f.min_should is not None:
        min_should = edge.MinShould(_conditions(f.min_should.conditions), f.min_should.min_count)
    return edge.Filter(must=_conditions(f.must), should=_conditions(f.should),
                       must_not=_conditions(f.must_not), min_should=min_should)


def _conditions(items: Any) -> list | None:
    if items is None:
        return None
    return [_condition(c) for c in (items if isinstance(items, list) else [items])]


def _condition(c: Any) -> Any:
    if isinstance(c, models.Filter):
        return _filter(c)
    if isinstance(c, models.FieldCondition):
        if c.geo_bounding_box or c.geo_radius or c.geo_polygon or c.values_count:
            raise FilterError(f"the edge engine does not translate geo / values_count conditions ({c.key})")
        return edge.FieldCondition(c.key, match=_match(c.match), range=_range(c.range),
                                   is_empty=c.is_empty, is_null=c.is_null)
    if isinstance(c, models.IsEmptyCondition):
        return edge.IsEmptyCondition(c.is_empty.key)
    if isinstance(c, models.IsNullCondition):
        return edge.IsNullCondition(c.is_null.key)
    if isinstance(c, models.HasIdCondition):
        return edge.HasIdCondition(set(c.has_id))
    if isinstance(c, models.HasVectorCondition):
        return edge.HasVectorCondition(c.has_vector)
    if isinstance(c, models.NestedCondition):
        return edge.NestedCondition(c.nested.key, _filter(c.nested.filter))
    raise FilterError(f"the edge engine cannot translate a {type(c).__name__} filter condition")


def _match(m: Any) -> Any:
    if m is None:
        return None
    if isinstance(m, models.MatchValue):
        # edge reads a Python bool as the integer 1 (which matches no stored bool); it reads
        # numpy's bool as a bool
        return edge.MatchValue(np.bool_(m.value) if isinstance(m.value, bool) else m.value)
    if isinstance(m, models.MatchAny):
        return edge.MatchAny(list(m.any))
    if isinstance(m, models.MatchExcept):
        return edge.MatchExcept(list(m.except_))
    if isinstance(m, models.MatchText):
        return edge.MatchText(m.text)
    raise FilterError(f"the edge engine cannot translate a {type(m).__name__} match")


def _range(r: Any) -> Any:
    if r is None:
        return None
    bounds = {k: getattr(r, k) for k in ("gt", "gte", "lt", "lte")}
    if isinstance(r, models.DatetimeRange):
        return edge.RangeDateTime(**{k: v and v.isoformat() for k, v in bounds.items()})
    return edge.RangeFloat(**bounds)


_SCHEMA_TYPES = {"keyword": "Keyword", "integer": "Integer", "float": "Float", "bool": "Bool",
                 "datetime": "Datetime", "text": "Text", "uuid": "Uuid"}


def _index_payload(field: str, kind: str) -> Op:
    op = edge.UpdateOperation.create_field_index(field, getattr(edge.PayloadSchemaType, _SCHEMA_TYPES[kind]))
    return "create_field_index", lambda shard: shard.update(op)
