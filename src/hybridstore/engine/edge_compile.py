"""Requests -> Qdrant Edge calls (no I/O here): `COMPILE[type(request)](request)` gives
(name for errors, call on the shard); a shard's configuration is `edge_config`'s."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import qdrant_edge as edge

from ..errors import EngineError
from ..qdrant.filter_tree import Filter
from ..qdrant.payload import Point, SparseVec
from ..qdrant.query import RRF_DEFAULT_K, Boosted, Fuse, QueryPlan, Stage
from ..qdrant.schema import multivector
from ..qdrant.storage import of_vector
from .edge_boost import edge_formula
from .edge_filters import edge_filter
from .requests import (
    ChangeVectors,
    Count,
    Delete,
    Found,
    IndexPayload,
    Optimize,
    Query,
    QueryBatch,
    ScrollPage,
    SetPayloads,
    Write,
)

Op = tuple[str, Callable[[Any], Any]]  # (name for errors, call on the shard)


def _vector(value: Any) -> Any:
    return edge.SparseVector(list(value.indices), list(value.values)) \
        if isinstance(value, SparseVec) else value


def _write(request: Write) -> Op:
    if request.merge:
        return _update_vectors(request.points)
    structs = [edge.Point(p.id, {n: _vector(v) for n, v in p.vectors.items()}, p.payload)
               for p in request.points]
    return "upsert", lambda shard: shard.update(edge.UpdateOperation.upsert_points(structs))


def _set_payloads(request: SetPayloads) -> Op:
    ops = [edge.UpdateOperation.overwrite_payload([p.id], p.payload) for p in request.points]

    def call(shard: Any) -> None:
        for op in ops:
            shard.update(op)

    return "overwrite_payload", call


def change_vectors(request: ChangeVectors) -> Op:
    """Drop a vector, or create one (its other storage settings: `EdgeEngine`, a folder-level
    request, then reloads the shard with them, `edge_config.with_vector`)."""
    if request.drop is not None:
        dropped = edge.UpdateOperation.delete_vector_name(request.drop)
        return "drop_vector", lambda shard: shard.update(dropped)
    field = request.add
    if field is None:
        raise EngineError("ChangeVectors takes a field to add or a name to drop")
    half = edge.VectorStorageDatatype.Float16 \
        if of_vector(request.storage, field.kind).float16 and field.kind != "sparse" else None
    if field.kind == "sparse":
        op = edge.UpdateOperation.create_sparse_vector(
            field.name, modifier=edge.Modifier.Idf if field.modifier == "idf" else None)
    else:
        multi = edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim) \
            if multivector(field.kind) else None
        assert field.size is not None  # dense and late-interaction fields have a size
        op = edge.UpdateOperation.create_dense_vector(field.name, field.size, edge.Distance.Cosine,
                                                      multivector_config=multi, datatype=half)
    return "add_vector", lambda shard: shard.update(op)


def _update_vectors(points: Sequence[Point]) -> Op:
    vectors = edge.UpdateOperation.update_vectors(
        [edge.PointVectors(p.id, {n: _vector(v) for n, v in p.vectors.items()}) for p in points])
    payloads = [edge.UpdateOperation.set_payload([p.id], p.payload) for p in points if p.payload]

    def call(shard: Any) -> None:
        shard.update(vectors)  # vectors first: a crash in between leaves a stale hash (re-embedded later)
        for op in payloads:
            shard.update(op)

    return "update_vectors", call


def _stage(stage: Stage, filter: edge.Filter | None) -> dict[str, Any]:
    """Keyword arguments of a Prefetch / QueryRequest for one stage of the plan."""
    if isinstance(stage, Boosted):
        return {"query": edge_formula(stage.boost), "prefetches": [_prefetch(stage.source, filter)], "limit": stage.limit}
    if isinstance(stage, Fuse):
        if stage.method == "dbsf":
            query: Any = edge.Fusion.Dbsf()
        else:
            query = edge.Fusion.Rrf(k=stage.rrf_k or RRF_DEFAULT_K, weights=list(stage.weights) if stage.weights else None)
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
    if stage.hnsw_ef is not None or stage.rescore is not None:
        out["params"] = edge.SearchParams(hnsw_ef=stage.hnsw_ef, quantization=None if stage.rescore is None
                                          else edge.QuantizationSearchParams(rescore=True,
                                                                             oversampling=stage.rescore))
    return out


def _prefetch(stage: Stage, filter: edge.Filter | None) -> edge.Prefetch:
    return edge.Prefetch(filter=filter, **_stage(stage, filter))


def _request(plan: QueryPlan) -> Any:
    flt = _filter(plan.filter)
    return edge.QueryRequest(**{**_stage(plan.root, flt), "limit": plan.limit}, filter=flt,
                             score_threshold=plan.score_threshold,
                             with_payload=edge.PayloadSelector.Exclude(list(plan.omit)) if plan.omit else True,
                             with_vector=False)


def _found(points: Any) -> list[Found]:
    return [Found(p, p.payload or {}, p.score) for p in points]


def _query(request: Query) -> Op:
    if request.group_by is not None:
        raise EngineError("the edge engine does not group; the core groups for it (engine.groups)")
    compiled = _request(request.plan)
    return "query", lambda shard: _found(shard.query(compiled))


def _query_batch(request: QueryBatch) -> Op:
    batch = edge.QueryBatchRequest([_request(p) for p in request.plans])
    return "query_batch", lambda shard: [_found(r) for r in shard.query_batch(batch)]


def _scroll_page(request: ScrollPage) -> Op:
    compiled = edge.ScrollRequest(offset=request.offset, limit=request.limit, filter=_filter(request.filter),
                                  with_payload=True, with_vector=request.with_vectors)

    def call(shard: Any) -> tuple[list[Found], Any]:
        page, offset = shard.scroll(compiled)
        return [Found(str(r.id), r.payload or {}, vectors=_plain(r.vector) if request.with_vectors else None)
                for r in page], offset

    return "scroll", call


def _plain(vectors: Any) -> dict[str, Any]:
    """A scrolled point's vectors by name (the unnamed one: ""), sparse ones as SparseVec."""
    named = vectors if isinstance(vectors, dict) else {} if vectors is None else {"": vectors}
    return {n: SparseVec(list(v.indices), list(v.values)) if isinstance(v, edge.SparseVector) else v
            for n, v in named.items()}


def _delete(request: Delete) -> Op:
    op = edge.UpdateOperation.delete_points_by_filter(edge_filter(request.filter))
    return "delete", lambda shard: shard.update(op)


def _count(request: Count) -> Op:
    compiled = edge.CountRequest(exact=True, filter=_filter(request.filter))
    return "count", lambda shard: int(shard.count(compiled))


def _optimize(request: Optimize) -> Op:
    def call(shard: Any) -> None:
        shard.optimize()  # whether a segment changed is not the core's business

    return "optimize", call


def _filter(f: Filter | None) -> edge.Filter | None:
    return None if f is None else edge_filter(f)


_SCHEMA_TYPES = {"keyword": "Keyword", "integer": "Integer", "float": "Float", "bool": "Bool",
                 "datetime": "Datetime", "text": "Text", "uuid": "Uuid", "geo": "Geo"}


def _index_payload(request: IndexPayload) -> Op:
    schema = edge.KeywordIndexParams(is_tenant=True) if request.kind == "tenant" \
        else getattr(edge.PayloadSchemaType, _SCHEMA_TYPES[request.kind])
    op = edge.UpdateOperation.create_field_index(request.field, schema)
    return "create_field_index", lambda shard: shard.update(op)


COMPILE: dict[type, Callable[[Any], Op]] = {
    Write: _write, SetPayloads: _set_payloads,
    IndexPayload: _index_payload,
    Optimize: _optimize, Delete: _delete,
    Count: _count, ScrollPage: _scroll_page, Query: _query, QueryBatch: _query_batch,
}
