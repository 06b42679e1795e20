"""Requests -> qdrant-client calls (no I/O here): `COMPILE[type(request)](collection,
request)` gives (client method, keyword arguments, parser of the answer)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel
from qdrant_client import models

from ..errors import EngineError
from ..qdrant.filter_tree import Filter
from ..qdrant.payload import Point, SparseVec
from ..qdrant.query import Boosted, Fuse, QueryPlan, Stage
from ..qdrant.schema import Schema, VectorField, multivector
from ..qdrant.signature import KEY as SIGNATURE_KEY
from ..qdrant.storage import Storage, of_vector, quantization_name
from .client_boost import client_formula
from .client_filters import client_filter
from .requests import (
    ChangeVectors,
    Count,
    Create,
    CreateShardKey,
    Delete,
    Drop,
    Found,
    IndexPayload,
    MoveTenant,
    Query,
    QueryBatch,
    Request,
    ScrollPage,
    SetPayloads,
    SetSignature,
    ShardKeys,
    Write,
)

Op = tuple[str, dict[str, Any], Callable[[Any], Any]]


def _ignore(_: Any) -> None:
    return None


def _shard(request: Request[Any]) -> Any:
    """The shard key selector of a routed request: the tenant's key, else the shared one."""
    route = request.shard
    if route is None or route.fallback is None:
        return route and route.target
    return models.ShardKeyWithFallback(target=route.target, fallback=route.fallback)


def _set_signature(collection: str, request: SetSignature) -> Op:
    return "update_collection", {"collection_name": collection,
                                 "metadata": {SIGNATURE_KEY: request.signature}}, _ignore


def _int8(on: str | None) -> Any:
    return models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(
        type=models.ScalarType.INT8, always_ram=True)) if on == "int8" else None


def _size(field: VectorField) -> int:
    assert field.size is not None  # dense and late-interaction fields have a size
    return field.size


def _create(collection: str, request: Create) -> Op:
    schema, st = request.schema, request.storage
    dense: dict[str, models.VectorParams] = {}
    sparse: dict[str, models.SparseVectorParams] = {}
    for f in schema.fields:
        if f.kind == "sparse":
            modifier = models.Modifier.IDF if f.modifier == "idf" else None
            sparse[f.name] = models.SparseVectorParams(
                modifier=modifier, index=models.SparseIndexParams(on_disk=True) if st.on_disk else None)
        elif multivector(f.kind):
            own = of_vector(st, f.kind)
            dense[f.name] = models.VectorParams(
                size=_size(f), distance=models.Distance.COSINE,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
                hnsw_config=models.HnswConfigDiff(m=0), on_disk=own.late_on_disk or None,
                quantization_config=_int8(own.late_quantize),
                datatype=models.Datatype.FLOAT16 if own.float16 else None,
            )
        else:
            hnsw = models.HnswConfigDiff(m=st.hnsw_m, ef_construct=st.hnsw_ef_construct) \
                if (st.hnsw_m, st.hnsw_ef_construct) != (None, None) else None
            dense[f.name] = models.VectorParams(
                size=_size(f), distance=models.Distance.COSINE, on_disk=st.on_disk or None,
                quantization_config=_int8(st.quantize), hnsw_config=hnsw,
                datatype=models.Datatype.FLOAT16 if st.float16 else None)
    # the unnamed default vector (langchain-qdrant's layout) stands alone
    vectors = dense.get("", dense)
    metadata = {SIGNATURE_KEY: dict(schema.signature)} if schema.signature is not None else None
    sharding = models.ShardingMethod.CUSTOM if request.sharded else None
    return "create_collection", {"collection_name": collection, "vectors_config": vectors,
                                 "sparse_vectors_config": sparse, "metadata": metadata,
                                 "sharding_method": sharding, "shard_number": request.shards,
                                 "replication_factor": request.replicas,
                                 "on_disk_payload": st.payload_on_disk or None}, _ignore


def _schema_of(info: models.CollectionInfo) -> Schema:
    params = info.config.params
    fields = []
    vectors = params.vectors if isinstance(params.vectors, dict) else {"": params.vectors}
    for name, p in vectors.items():
        if p is None:
            continue
        kind = "late_interaction" if p.multivector_config is not None else "dense"
        fields.append(VectorField(name, kind, p.size, str(p.distance.value).lower()))
    for name, sp in (params.sparse_vectors or {}).items():
        modifier = "idf" if sp.modifier == models.Modifier.IDF else None
        fields.append(VectorField(name, "sparse", None, "cosine", modifier))
    return Schema(tuple(fields), (info.config.metadata or {}).get(SIGNATURE_KEY), _storage_of(info.config),
                  params.sharding_method == models.ShardingMethod.CUSTOM)


def _storage_of(config: models.CollectionConfig) -> Storage:
    """The stored settings, from the first dense and late-interaction vectors' params; a
    vector's own quantization and HNSW, else the collection's."""
    vectors = config.params.vectors if isinstance(config.params.vectors, dict) else {"": config.params.vectors}

    def first(late: bool) -> Any:
        return next((p for _, p in sorted(vectors.items())  # by name: the same one on every open
                     if p is not None and (p.multivector_config is not None) == late), None)

    def quantized(p: Any) -> str | None:
        own = p.quantization_config if p is not None else None
        chosen = own if own is not None else config.quantization_config
        return quantization_name(chosen.model_dump(mode="json") if isinstance(chosen, BaseModel) else chosen) \
            if p is not None else None

    dense, late = first(False), first(True)
    hnsw = (dense.hnsw_config if dense is not None else None) or config.hnsw_config
    return Storage(quantize=quantized(dense), on_disk=bool(dense is not None and dense.on_disk),
                   float16=dense is not None and dense.datatype == models.Datatype.FLOAT16,
                   payload_on_disk=bool(config.params.on_disk_payload),
                   hnsw_m=hnsw.m if hnsw else None, hnsw_ef_construct=hnsw.ef_construct if hnsw else None,
                   late_on_disk=bool(late is not None and late.on_disk), late_quantize=quantized(late))


def _vector(value: Any) -> Any:
    if isinstance(value, SparseVec):
        return models.SparseVector(indices=value.indices, values=value.values)
    return value.tolist() if isinstance(value, np.ndarray) else value  # multivectors


def _write(collection: str, request: Write) -> Op:
    if request.merge:
        return _update_vectors(collection, request.points, _shard(request))
    structs = [models.PointStruct(id=p.id, vector={n: _vector(v) for n, v in p.vectors.items()},
                                  payload=p.payload) for p in request.points]
    return "upsert", {"collection_name": collection, "points": structs, "wait": True,
                      "shard_key_selector": _shard(request)}, _ignore


def _set_payloads(collection: str, request: SetPayloads) -> Op:
    ops = [models.OverwritePayloadOperation(overwrite_payload=models.SetPayload(
        payload=p.payload, points=[p.id], shard_key=_shard(request))) for p in request.points]
    return "batch_update_points", {"collection_name": collection, "update_operations": ops,
                                   "wait": True}, _ignore


def _change_vectors(collection: str, request: ChangeVectors) -> Op | list[Op]:
    if request.drop is not None:
        return "delete_vector_name", {"collection_name": collection, "vector_name": request.drop}, _ignore
    field, st = request.add, request.storage
    if field is None:
        raise EngineError("ChangeVectors takes a field to add or a name to drop")
    if field.kind == "sparse":
        config: Any = models.SparseVectorNameConfig(sparse=models.SparseVectorConfig(
            modifier=models.Modifier.IDF if field.modifier == "idf" else None))
    else:
        multi = models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM) \
            if multivector(field.kind) else None
        config = models.DenseVectorNameConfig(dense=models.DenseVectorConfig(
            size=_size(field), distance=models.Distance.COSINE, multivector_config=multi,
            datatype=models.VectorStorageDatatype.FLOAT16 if of_vector(st, field.kind).float16 else None))
    create = "create_vector_name", {"collection_name": collection, "vector_name": field.name,
                                    "vector_name_config": config}, _ignore
    # creating takes no storage settings: they follow as a change of the collection's
    return [create, _vector_storage(collection, field, st)]


def _vector_storage(collection: str, field: VectorField, st: Storage) -> Op:
    if field.kind == "sparse":
        return "update_collection", {"collection_name": collection, "sparse_vectors_config": {
            field.name: models.SparseVectorParams(index=models.SparseIndexParams(on_disk=st.on_disk))}}, _ignore
    if multivector(field.kind):
        st = of_vector(st, field.kind)
        diff = models.VectorParamsDiff(hnsw_config=models.HnswConfigDiff(m=0), on_disk=st.late_on_disk,
                                       quantization_config=_int8(st.late_quantize))
    else:
        hnsw = models.HnswConfigDiff(m=st.hnsw_m, ef_construct=st.hnsw_ef_construct) \
            if (st.hnsw_m, st.hnsw_ef_construct) != (None, None) else None
        diff = models.VectorParamsDiff(hnsw_config=hnsw, on_disk=st.on_disk,
                                       quantization_config=_int8(st.quantize))
    return "update_collection", {"collection_name": collection, "vectors_config": {field.name: diff}}, _ignore


def _update_vectors(collection: str, points: Sequence[Point], shard: Any) -> Op:
    ops: list[Any] = [models.UpdateVectorsOperation(update_vectors=models.UpdateVectors(points=[
        models.PointVectors(id=p.id, vector={n: _vector(v) for n, v in p.vectors.items()})
        for p in points], shard_key=shard))]
    ops += [models.SetPayloadOperation(set_payload=models.SetPayload(
        payload=p.payload, points=[p.id], shard_key=shard)) for p in points if p.payload]
    return "batch_update_points", {"collection_name": collection, "update_operations": ops,
                                   "wait": True}, _ignore


def _stage(stage: Stage, filter: models.Filter | None) -> dict[str, Any]:
    if isinstance(stage, Boosted):
        return {"query": client_formula(stage.boost), "prefetch": [_prefetch(stage.source, filter)], "limit": stage.limit}
    if isinstance(stage, Fuse):
        if stage.method == "dbsf":
            query: Any = models.FusionQuery(fusion=models.Fusion.DBSF)
        else:
            query = models.RrfQuery(rrf=models.Rrf(k=stage.rrf_k, weights=list(stage.weights) if stage.weights else None))
        return {"query": query, "prefetch": [_prefetch(s, filter) for s in stage.sources],
                "limit": stage.limit}
    query = _vector(stage.vector)
    if stage.mmr_diversity is not None:
        query = models.NearestQuery(nearest=query, mmr=models.Mmr(
            diversity=stage.mmr_diversity, candidates_limit=stage.mmr_candidates))
    out = {"query": query, "using": stage.using, "limit": stage.limit}
    if stage.source is not None:
        out["prefetch"] = [_prefetch(stage.source, filter)]
    if stage.hnsw_ef is not None or stage.rescore is not None:
        out["params"] = models.SearchParams(hnsw_ef=stage.hnsw_ef, quantization=None if stage.rescore is None
                                            else models.QuantizationSearchParams(rescore=True,
                                                                                 oversampling=stage.rescore))
    return out


def _filter(f: Filter | None) -> models.Filter | None:
    return None if f is None else client_filter(f)


def _prefetch(stage: Stage, filter: models.Filter | None) -> models.Prefetch:
    return models.Prefetch(filter=filter, **_stage(stage, filter))


def _request(plan: QueryPlan, shard: Any) -> dict[str, Any]:
    flt = _filter(plan.filter)
    return {**_stage(plan.root, flt), "filter": flt, "limit": plan.limit, "shard_key": shard,
            "score_threshold": plan.score_threshold, "with_vector": False,
            "with_payload": models.PayloadSelectorExclude(exclude=list(plan.omit)) if plan.omit else True}


def _top(kwargs: dict[str, Any]) -> dict[str, Any]:
    """query_points' own names for the top stage's keywords."""
    kwargs["query_filter"] = kwargs.pop("filter")
    kwargs["with_vectors"] = kwargs.pop("with_vector")
    kwargs["shard_key_selector"] = kwargs.pop("shard_key")
    if "params" in kwargs:
        kwargs["search_params"] = kwargs.pop("params")
    return kwargs


def _found(points: Sequence[models.ScoredPoint]) -> list[Found]:
    return [Found(str(p.id), p.payload or {}, p.score) for p in points]


def _query(collection: str, request: Query) -> Op:
    plan = request.plan
    if request.group_by is not None:
        return "query_points_groups", {"collection_name": collection,
                                       "group_by": request.group_by, "group_size": request.group_size,
                                       **_top(_request(plan, _shard(request)))}, \
            lambda r: [f for g in r.groups for f in _found(g.hits)]
    return "query_points", {"collection_name": collection, **_top(_request(plan, _shard(request)))}, \
        lambda r: _found(r.points)


def _query_batch(collection: str, request: QueryBatch) -> Op:
    requests = [models.QueryRequest(**_request(p, _shard(request))) for p in request.plans]
    return "query_batch_points", {"collection_name": collection, "requests": requests}, \
        lambda rs: [_found(r.points) for r in rs]


SERVER_VERSION: Op = "info", {}, lambda r: str(r.version)  # e.g. "1.16.2" (a boost needs 1.14)


def _scroll_page(collection: str, request: ScrollPage) -> Op:
    return "scroll", {"collection_name": collection, "scroll_filter": _filter(request.filter),
                      "limit": request.limit, "offset": request.offset, "with_payload": True,
                      "with_vectors": request.with_vectors, "shard_key_selector": _shard(request)}, \
        lambda r: ([Found(str(p.id), p.payload or {}, vectors=_plain(p.vector) if request.with_vectors else None)
                    for p in r[0]], r[1])


def _plain(vectors: Any) -> dict[str, Any]:
    """A scrolled point's vectors by name (the unnamed one: ""), sparse ones as SparseVec."""
    named = vectors if isinstance(vectors, dict) else {} if vectors is None else {"": vectors}
    return {n: SparseVec(list(v.indices), list(v.values)) if isinstance(v, models.SparseVector) else v
            for n, v in named.items()}


def _delete(collection: str, request: Delete) -> Op:
    return "delete", {"collection_name": collection, "wait": True, "shard_key_selector": _shard(request),
                      "points_selector": models.FilterSelector(filter=client_filter(request.filter))}, _ignore


def _count(collection: str, request: Count) -> Op:
    return "count", {"collection_name": collection, "count_filter": _filter(request.filter), "exact": True,
                     "shard_key_selector": _shard(request)}, \
        lambda r: int(r.count)


def _index_payload(collection: str, request: IndexPayload) -> Op:
    schema = models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True) \
        if request.kind == "tenant" else models.PayloadSchemaType(request.kind)
    return "create_payload_index", {"collection_name": collection, "field_name": request.field,
                                    "field_schema": schema, "wait": True}, _ignore


def _shard_keys(collection: str, request: ShardKeys) -> Op:
    return "list_shard_keys", {"collection_name": collection}, \
        lambda r: [str(k.key) for k in r.shard_keys or ()]


def _create_shard_key(collection: str, request: CreateShardKey) -> Op:
    state = models.ReplicaState.PARTIAL if request.partial else None
    return "create_shard_key", {"collection_name": collection, "shard_key": request.key,
                                **({"initial_state": state} if state else {})}, _ignore


def _move_tenant(collection: str, request: MoveTenant) -> Op:
    move = models.ReplicatePoints(filter=client_filter(request.filter), from_shard_key=request.source,
                                  to_shard_key=request.target)
    return "cluster_collection_update", {"collection_name": collection, "cluster_operation":
                                         models.ReplicatePointsOperation(replicate_points=move)}, _ignore


def _drop(collection: str, request: Drop) -> Op:
    return "delete_collection", {"collection_name": collection}, _ignore


def exists(collection: str) -> Op:
    return "collection_exists", {"collection_name": collection}, bool


def info(collection: str) -> Op:
    return "get_collection", {"collection_name": collection}, _schema_of


COMPILE: dict[type, Callable[[str, Any], Op | list[Op]]] = {
    Create: _create, Drop: _drop, SetSignature: _set_signature, ChangeVectors: _change_vectors,
    IndexPayload: _index_payload, Write: _write, SetPayloads: _set_payloads, Delete: _delete,
    Count: _count,
    ScrollPage: _scroll_page, Query: _query, QueryBatch: _query_batch, ShardKeys: _shard_keys,
    CreateShardKey: _create_shard_key, MoveTenant: _move_tenant,
}
