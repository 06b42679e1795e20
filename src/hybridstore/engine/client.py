"""Engine over qdrant-client: a remote server (sync + async clients) or its local mode.

qdrant-client's local mode is pure Python and not thread-safe, so every local call holds
one lock; its async twin runs that one call in a worker thread. Against a server, a request
that failed on the way (connection refused or reset, timeout, 429/500/502/503/504) is sent
again with bounded exponential backoff; every request hybridstore sends is idempotent
(deterministic point ids, deletes by filter) except creating a collection, which is not
retried. Other answers (4xx) fail at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import threading
import time
from typing import Any, Callable, Sequence

import httpx
import numpy as np
from qdrant_client import AsyncQdrantClient, QdrantClient, models
from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from ..errors import ConfigurationError, EngineError, StorageLockedError
from ..qdrant.payload import Point, SparseVec
from ..qdrant.query import Fuse, QueryPlan, Stage
from ..qdrant.schema import Schema, VectorField
from ..qdrant.signature import KEY as SIGNATURE_KEY
from .base import Engine, Found
from .folder import FolderLock, check_layout, written_by

_BACKEND_ERRORS = (UnexpectedResponse, ResponseHandlingException, ResourceExhaustedResponse)
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
NOT_RETRIED = frozenset({"create_collection"})
MAX_WAIT = 5.0  # seconds, the longest pause between two tries
Op = tuple[str, dict[str, Any], Callable[[Any], Any]]


class ClientEngine(Engine):
    def __init__(
        self,
        *,
        location: str | None = None,
        path: str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        client: QdrantClient | None = None,
        async_client: AsyncQdrantClient | None = None,
        timeout: int | None = None,
        retries: int = 3,
        backoff: float = 0.25,
    ) -> None:
        if retries < 0 or backoff < 0:
            raise ConfigurationError("retries and backoff must be >= 0")
        self.retries, self.backoff = retries, backoff
        self._owns = client is None
        self._async = async_client
        self.path, self.folder = path, None
        self._client: Any = None
        if client is not None:
            self._client = client
        elif url is not None:
            self._client = QdrantClient(url=url, api_key=api_key, timeout=timeout)
            self._async = AsyncQdrantClient(url=url, api_key=api_key, timeout=timeout)
        elif path is not None:
            check_layout(path, "local")
            self.folder = FolderLock(path, "local")
            if self.folder.held:  # else at the first call (see engine.folder)
                self._client = _open_local(path)
        else:
            self._client = QdrantClient(location=location or ":memory:")
        self.local = client is None and url is None or \
            type(getattr(client, "_client", None)).__name__ == "QdrantLocal"
        self._lock: Any = threading.RLock() if self.local else contextlib.nullcontext()

    def _connect(self) -> Any:
        """The client; local mode on a folder opens once this engine holds the folder's lock."""
        if self._client is None:
            if self.folder.try_acquire():
                self._client = _open_local(self.path)
            else:
                self.folder.require()
        return self._client

    # -- sync / async drivers: the only place requests are sent ------------------------------
    def _run(self, op: Op) -> Any:
        name, kwargs, parse = op
        for attempt in range(1, self.retries + 2):
            try:
                with self._lock:
                    return parse(getattr(self._connect(), name)(**kwargs))
            except _BACKEND_ERRORS as e:
                time.sleep(self._retry_delay(name, e, attempt))

    async def _arun(self, op: Op) -> Any:
        if self._async is None:
            return await asyncio.to_thread(self._run, op)
        name, kwargs, parse = op
        for attempt in range(1, self.retries + 2):
            try:
                return parse(await getattr(self._async, name)(**kwargs))
            except _BACKEND_ERRORS as e:
                await asyncio.sleep(self._retry_delay(name, e, attempt))

    def _retry_delay(self, name: str, error: Exception, attempt: int) -> float:
        """Seconds to wait before sending again; raises when this failure is final."""
        transient = isinstance(error, ResourceExhaustedResponse) or (
            isinstance(error, ResponseHandlingException)  # a failed connection, not a bad answer
            and isinstance(error.source, httpx.TransportError)) or (
            isinstance(error, UnexpectedResponse) and error.status_code in TRANSIENT_STATUS)
        if self.local or not transient or name in NOT_RETRIED or attempt > self.retries:
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            raise EngineError(f"qdrant {name} failed{tries}: {_describe(error)}") from error
        wait = self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
        return min(max(wait, getattr(error, "retry_after_s", 0)), MAX_WAIT)

    # -- operations, each built once and shared by both twins --------------------------------
    def schema(self, collection: str) -> Schema | None:
        return self._run(_info(collection)) if self._run(_exists(collection)) else None

    def set_signature(self, collection: str, signature: dict[str, Any]) -> None:
        self._run(_set_signature(collection, signature))

    async def aset_signature(self, collection: str, signature: dict[str, Any]) -> None:
        await self._arun(_set_signature(collection, signature))

    def describe(self) -> dict[str, Any]:
        if self.path is not None:
            return {"engine": "local", "path": os.path.abspath(self.path),
                    "folder_written_by": written_by(self.path)}
        return {"engine": "local", "location": ":memory:"} if self.local else {"engine": "server"}

    async def aschema(self, collection: str) -> Schema | None:
        return await self._arun(_info(collection)) if await self._arun(_exists(collection)) else None

    def create(self, collection: str, schema: Schema) -> None:
        self._run(_create(collection, schema))

    async def acreate(self, collection: str, schema: Schema) -> None:
        await self._arun(_create(collection, schema))

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        self._run(_upsert(collection, points))

    async def aupsert(self, collection: str, points: Sequence[Point]) -> None:
        await self._arun(_upsert(collection, points))

    def query(self, collection: str, plan: QueryPlan) -> list[Found]:
        return self._run(_query(collection, plan))

    async def aquery(self, collection: str, plan: QueryPlan) -> list[Found]:
        return await self._arun(_query(collection, plan))

    def query_batch(self, collection: str, plans: Sequence[QueryPlan]) -> list[list[Found]]:
        return self._run(_query_batch(collection, plans))

    async def aquery_batch(self, collection: str, plans: Sequence[QueryPlan]) -> list[list[Found]]:
        return await self._arun(_query_batch(collection, plans))

    def query_groups(self, collection: str, plan: QueryPlan, group_by: str, size: int) -> list[Found]:
        return self._run(_query_groups(collection, plan, group_by, size))

    async def aquery_groups(self, collection: str, plan: QueryPlan, group_by: str,
                            size: int) -> list[Found]:
        return await self._arun(_query_groups(collection, plan, group_by, size))

    def index_payload(self, collection: str, field: str, kind: str) -> None:
        if not self.local:  # local mode has no payload indexes (it only warns)
            self._run(_index_payload(collection, field, kind))

    async def aindex_payload(self, collection: str, field: str, kind: str) -> None:
        if not self.local:
            await self._arun(_index_payload(collection, field, kind))

    def scroll(self, collection: str, filter: models.Filter | None, limit: int | None) -> list[Found]:
        found: list[Found] = []
        offset = None
        while True:  # page through; each page is one request
            page, offset = self._run(_scroll(collection, filter, _page(limit, found), offset))
            found.extend(page)
            if offset is None or (limit is not None and len(found) >= limit):
                return found

    async def ascroll(self, collection: str, filter: models.Filter | None, limit: int | None) -> list[Found]:
        found: list[Found] = []
        offset = None
        while True:
            page, offset = await self._arun(_scroll(collection, filter, _page(limit, found), offset))
            found.extend(page)
            if offset is None or (limit is not None and len(found) >= limit):
                return found

    def delete(self, collection: str, filter: models.Filter) -> None:
        self._run(_delete(collection, filter))

    async def adelete(self, collection: str, filter: models.Filter) -> None:
        await self._arun(_delete(collection, filter))

    def count(self, collection: str, filter: models.Filter | None) -> int:
        return self._run(_count(collection, filter))

    async def acount(self, collection: str, filter: models.Filter | None) -> int:
        return await self._arun(_count(collection, filter))

    def drop(self, collection: str) -> None:
        self._run(("delete_collection", {"collection_name": collection}, _ignore))

    async def adrop(self, collection: str) -> None:
        await self._arun(("delete_collection", {"collection_name": collection}, _ignore))

    def add_vector(self, collection: str, field: VectorField) -> None:
        self._run(_add_vector(collection, field))

    async def aadd_vector(self, collection: str, field: VectorField) -> None:
        await self._arun(_add_vector(collection, field))

    def drop_vector(self, collection: str, name: str) -> None:
        self._run(("delete_vector_name", {"collection_name": collection, "vector_name": name}, _ignore))

    async def adrop_vector(self, collection: str, name: str) -> None:
        await self._arun(("delete_vector_name", {"collection_name": collection, "vector_name": name},
                          _ignore))

    def update_vectors(self, collection: str, points: Sequence[Point]) -> None:
        self._run(_update_vectors(collection, points))

    async def aupdate_vectors(self, collection: str, points: Sequence[Point]) -> None:
        await self._arun(_update_vectors(collection, points))

    def close(self) -> None:
        if self._owns:
            with self._lock:
                if self._client is not None:
                    self._client.close()
                if self.folder is not None:
                    self.folder.release()

    async def aclose(self) -> None:
        """close(), and the async client of a server too (it needs the event loop)."""
        if self._owns and self._async is not None:
            await self._async.close()
        self.close()

    def __repr__(self) -> str:
        return f"ClientEngine(local={self.local})"


def _open_local(path: str) -> QdrantClient:
    try:
        return QdrantClient(path=path)
    except RuntimeError as e:
        if "already accessed" not in str(e):
            raise
        raise StorageLockedError(
            f"the index at {path} is already open in another process or HybridIndex; close "
            "that one first, or use a Qdrant server (url=...) for shared access"
        ) from e


def _describe(error: Exception) -> str:
    """The server's answer or the connection failure underneath, in one line."""
    if isinstance(error, UnexpectedResponse):
        return f"HTTP {error.status_code} {error.reason_phrase}: {error.content[:300]!r}"
    cause = getattr(error, "source", None) or error
    return f"{type(cause).__name__}: {cause}".rstrip(": ")


def _ignore(_: Any) -> None:
    return None


def _exists(collection: str) -> Op:
    return "collection_exists", {"collection_name": collection}, bool


def _info(collection: str) -> Op:
    return "get_collection", {"collection_name": collection}, _schema_of


def _set_signature(collection: str, signature: dict[str, Any]) -> Op:
    return "update_collection", {"collection_name": collection,
                                 "metadata": {SIGNATURE_KEY: signature}}, _ignore


def _create(collection: str, schema: Schema) -> Op:
    dense, sparse = {}, {}
    for f in schema.fields:
        if f.kind == "sparse":
            modifier = models.Modifier.IDF if f.modifier == "idf" else None
            sparse[f.name] = models.SparseVectorParams(modifier=modifier)
        elif f.kind == "late_interaction":
            dense[f.name] = models.VectorParams(
                size=f.size, distance=models.Distance.COSINE,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
                hnsw_config=models.HnswConfigDiff(m=0),
            )
        else:
            dense[f.name] = models.VectorParams(size=f.size, distance=models.Distance.COSINE)
    if "" in dense:  # the unnamed default vector (langchain-qdrant's layout) stands alone
        if len(dense) > 1:
            raise EngineError("an unnamed dense vector cannot sit beside other dense vectors")
        dense = dense[""]
    metadata = {SIGNATURE_KEY: dict(schema.signature)} if schema.signature is not None else None
    return "create_collection", {"collection_name": collection, "vectors_config": dense,
                                 "sparse_vectors_config": sparse, "metadata": metadata}, _ignore


def _schema_of(info: models.CollectionInfo) -> Schema:
    params = info.config.params
    fields = []
    vectors = params.vectors if isinstance(params.vectors, dict) else {"": params.vectors}
    for name, p in vectors.items():
        if p is None:
            continue
        kind = "late_interaction" if p.multivector_config is not None else "dense"
        fields.append(VectorField(name, kind, p.size, str(p.distance.value).lower()))
    for name, p in (params.sparse_vectors or {}).items():
        modifier = "idf" if p.modifier == models.Modifier.IDF else None
        fields.append(VectorField(name, "sparse", None, "cosine", modifier))
    return Schema(tuple(fields), (info.config.metadata or {}).get(SIGNATURE_KEY))


def _vector(value: Any) -> Any:
    if isinstance(value, SparseVec):
        return models.SparseVector(indices=value.indices, values=value.values)
    return value.tolist() if isinstance(value, np.ndarray) else value  # multivectors


def _upsert(collection: str, points: Sequence[Point]) -> Op:
    structs = [models.PointStruct(id=p.id, vector={n: _vector(v) for n, v in p.vectors.items()},
                                  payload=p.payload) for p in points]
    return "upsert", {"collection_name": collection, "points": structs, "wait": True}, _ignore


def _add_vector(collection: str, field: VectorField) -> Op:
    if field.kind == "sparse":
        config: Any = models.SparseVectorNameConfig(sparse=models.SparseVectorConfig(
            modifier=models.Modifier.IDF if field.modifier == "idf" else None))
    else:  # the API takes no HNSW settings: a late-interaction vector added later gets a graph
        multi = models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM) \
            if field.kind == "late_interaction" else None
        config = models.DenseVectorNameConfig(dense=models.DenseVectorConfig(
            size=field.size, distance=models.Distance.COSINE, multivector_config=multi))
    return "create_vector_name", {"collection_name": collection, "vector_name": field.name,
                                  "vector_name_config": config}, _ignore


def _update_vectors(collection: str, points: Sequence[Point]) -> Op:
    ops: list[Any] = [models.UpdateVectorsOperation(update_vectors=models.UpdateVectors(points=[
        models.PointVectors(id=p.id, vector={n: _vector(v) for n, v in p.vectors.items()})
        for p in points]))]
    ops += [models.SetPayloadOperation(set_payload=models.SetPayload(payload=p.payload, points=[p.id]))
            for p in points if p.payload]
    return "batch_update_points", {"collection_name": collection, "update_operations": ops,
                                   "wait": True}, _ignore


def _stage(stage: Stage, filter: models.Filter | None) -> dict[str, Any]:
    if isinstance(stage, Fuse):
        if stage.method == "dbsf":
            query: Any = models.FusionQuery(fusion=models.Fusion.DBSF)
        elif stage.rrf_k is None and stage.weights is None:
            query = models.FusionQuery(fusion=models.Fusion.RRF)
        else:
            query = models.RrfQuery(rrf=models.Rrf(k=stage.rrf_k, weights=stage.weights and list(stage.weights)))
        return {"query": query, "prefetch": [_prefetch(s, filter) for s in stage.sources],
                "limit": stage.limit}
    query = _vector(stage.vector)
    if stage.mmr_diversity is not None:
        query = models.NearestQuery(nearest=query, mmr=models.Mmr(
            diversity=stage.mmr_diversity, candidates_limit=stage.mmr_candidates))
    out = {"query": query, "using": stage.using, "limit": stage.limit}
    if stage.source is not None:
        out["prefetch"] = [_prefetch(stage.source, filter)]
    return out


def _prefetch(stage: Stage, filter: models.Filter | None) -> models.Prefetch:
    return models.Prefetch(filter=filter, **_stage(stage, filter))


def _request(plan: QueryPlan) -> dict[str, Any]:
    return {**_stage(plan.root, plan.filter), "limit": plan.limit,
            "score_threshold": plan.score_threshold, "with_payload": True, "with_vector": False}


def _found(points: Sequence[models.ScoredPoint]) -> list[Found]:
    return [Found(str(p.id), p.payload or {}, p.score) for p in points]


def _query(collection: str, plan: QueryPlan) -> Op:
    kwargs = _request(plan)
    kwargs["with_vectors"] = kwargs.pop("with_vector")
    return "query_points", {"collection_name": collection, "query_filter": plan.filter, **kwargs}, \
        lambda r: _found(r.points)


def _query_batch(collection: str, plans: Sequence[QueryPlan]) -> Op:
    requests = [models.QueryRequest(filter=p.filter, **_request(p)) for p in plans]
    return "query_batch_points", {"collection_name": collection, "requests": requests}, \
        lambda rs: [_found(r.points) for r in rs]


def _query_groups(collection: str, plan: QueryPlan, group_by: str, size: int) -> Op:
    kwargs = _request(plan)
    kwargs["with_vectors"] = kwargs.pop("with_vector")
    return "query_points_groups", {"collection_name": collection, "query_filter": plan.filter,
                                   "group_by": group_by, "group_size": size, **kwargs}, \
        lambda r: [f for g in r.groups for f in _found(g.hits)]


PAGE = 256


def _page(limit: int | None, found: list) -> int:
    return PAGE if limit is None else min(PAGE, limit - len(found))


def _scroll(collection: str, filter: models.Filter | None, limit: int, offset: Any) -> Op:
    return "scroll", {"collection_name": collection, "scroll_filter": filter, "limit": limit,
                      "offset": offset, "with_payload": True, "with_vectors": False}, \
        lambda r: ([Found(str(p.id), p.payload or {}) for p in r[0]], r[1])


def _delete(collection: str, filter: models.Filter) -> Op:
    return "delete", {"collection_name": collection, "wait": True,
                      "points_selector": models.FilterSelector(filter=filter)}, _ignore


def _count(collection: str, filter: models.Filter | None) -> Op:
    return "count", {"collection_name": collection, "count_filter": filter, "exact": True}, \
        lambda r: int(r.count)


def _index_payload(collection: str, field: str, kind: str) -> Op:
    return "create_payload_index", {"collection_name": collection, "field_name": field,
                                    "field_schema": models.PayloadSchemaType(kind), "wait": True}, _ignore
