"""`HybridIndex`: the framework-free facade over models, the Qdrant layer and an engine.

Each operation is: check input (pure) -> embed (models) -> plan (pure) -> one engine call.
Sync methods and their `a` twins share every step but the I/O; async runs model inference
in a worker thread so it never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
from qdrant_client import AsyncQdrantClient, QdrantClient, models as qm

from . import collection as rules
from .engine import Engine, Found, open_engine
from .errors import (CollectionNotFoundError, ConfigurationError, EngineError, InvalidInputError,
                     SchemaMismatchError, StorageLockedError, WriteError)
from .inference import Models
from .reembed import Refill, new_fields
from .qdrant import filters, groups, payload
from .qdrant import query as qplan
from .qdrant import signature as sig
from .qdrant.layouts import get_layout
from .qdrant.schema import DEFAULT_NAMES, Schema
from .records import Hit, Record

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
SEARCH_OPTIONS = tuple(qplan.SearchRequest.__dataclass_fields__)
EMBED_CHUNK = 256  # records embedded and written per step: bounds memory (ColBERT vectors are large)
REQUEST_NUMBERS = 4_000_000  # vector numbers per engine write (a ColBERT document has ~100k)


class ClosesIndex:
    """Open and close like a file, for the adapters' stores: ``close()`` / ``aclose()``,
    ``with`` and ``async with`` close the `HybridIndex` they hold as ``self.index``."""

    def close(self) -> None:
        """Close the index and release its storage (an on-disk folder's lock)."""
        self.index.close()

    async def aclose(self) -> None:
        """`close`, and a server's async client too."""
        await self.index.aclose()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class HybridIndex(ClosesIndex):
    """Dense, sparse and late-interaction vectors of one Qdrant collection.

    Storage: ``location=":memory:"`` (default), ``path=DIR`` (embedded, on disk),
    ``url=URL`` (+ ``api_key``) for a Qdrant server, or your own ``client=QdrantClient``.
    Embedded storage runs on Qdrant Edge (``engine="edge"``, the default) or qdrant-client's
    local mode (``engine="local"``); ``engine=`` also takes an ``Engine`` instance.
    ``payload_indexes``: metadata keys you filter on, e.g. ``{"year": "integer", "topic":
    "keyword"}`` (``doc_id`` is always indexed); ``optimize_threshold``: see `optimize`.
    """

    def __init__(
        self,
        collection: str,
        models: Models | None = None,
        *,
        location: str | None = None,
        path: str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        client: QdrantClient | None = None,
        async_client: AsyncQdrantClient | None = None,
        engine: Engine | str | None = None,
        vector_names: dict[str, str] | None = None,
        payload_layout: str = "canonical",
        payload_indexes: dict[str, str] | None = None,
        optimize_threshold: int | None = 20_000,
        upsert_batch: int = 256,
    ) -> None:
        if not isinstance(collection, str) or not _NAME.match(collection) or ".." in collection:
            raise ConfigurationError(
                f"collection name {collection!r} is not allowed; use letters, digits, '_', '-' "
                "and '.', starting with a letter or digit"
            )
        given = [n for n, v in {"location": location, "path": path, "url": url, "client": client,
                                "engine": engine if isinstance(engine, Engine) else None}.items()
                 if v is not None]
        if len(given) > 1:
            raise ConfigurationError(f"give one of location=, path=, url=, client=, engine=; got {given}")
        if path is not None and (not isinstance(path, (str, os.PathLike)) or "\0" in os.fspath(path)):
            raise ConfigurationError(f"path={path!r} is not a usable folder path (a str without NUL bytes)")
        if location not in (None, ":memory:"):
            raise ConfigurationError(f"location={location!r}: use ':memory:', path=DIR or url=URL")
        self.collection = collection
        self.models = models if models is not None else Models()
        self.names = {**DEFAULT_NAMES, **(vector_names or {})}
        self.engine = open_engine(engine, location=location, path=path and os.fspath(path),
                                  url=url, api_key=api_key,
                                  client=client, async_client=async_client)
        self.layout = get_layout(payload_layout)
        self.payload_indexes = _check_indexes(payload_indexes or {})
        self.optimize_threshold = optimize_threshold
        self.upsert_batch = upsert_batch
        self._schema: Schema | None = None
        self._want: Schema | None = None  # what the models write (schema + signature)
        self._unsigned: list[str] = []  # vectors whose models the collection has no record of
        self._lacking: dict[str, int] = {}  # points without each vector, as last counted
        self._written = 0  # points written since the last optimize, by this instance
        self.stats = {"embedded": 0, "unchanged": 0}
        self._ensure_lock = threading.RLock()
        self._loop_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        folder = getattr(self.engine, "folder", None)
        if folder is not None:  # named in the error a second open of the folder gets
            folder.owner = f"HybridIndex({collection!r}) opened at {_caller()}"

    def __repr__(self) -> str:
        return f"HybridIndex({self.collection!r}, {self.models!r}, engine={self.engine!r})"

    # -- writing -----------------------------------------------------------------------------
    def add(self, records: Iterable[Record], *, dense: Sequence[Sequence[float]] | None = None,
            progress: Callable[[int], None] | None = None, skip_unchanged: bool = True) -> list[str]:
        """Embed and store records (re-adding an id overwrites it); returns their ids.

        A list is checked whole before anything is written; any other iterable (a generator
        of a million records) streams in chunks of 256 in bounded memory, each chunk checked
        before it is written, with embedding of one chunk overlapping the write of the last.
        ``dense``: your own dense vectors, one per record (needs a list of records).
        ``skip_unchanged``: a record whose stored content hash (text, metadata, doc_id,
        extras, models) is unchanged is neither embedded nor written again. ``self.stats``
        counts what the last add embedded and skipped. ``progress(n)`` after each chunk.
        """
        batches, size = self._batches(records, dense)
        stats, ids, done = {"embedded": 0, "unchanged": 0}, [], set()
        with ThreadPoolExecutor(1, thread_name_prefix="hybridstore-write") as writer, \
                self._partial(records, ids, done):
            pending = None
            for chunk, vecs in batches:
                if not ids:  # the first chunk: create or check the collection, check all vectors
                    self._ensure(create=True, dense_size=size)
                    self._check_writes(dense)
                    if self._unsigned:
                        self.engine.set_signature(self.collection, self._signed())
                ids.extend(r.id for r in chunk)
                stored = self.engine.scroll(self.collection, self._has_ids(chunk), len(chunk)) \
                    if skip_unchanged else []
                points = self._points(*self._changed(chunk, vecs, self._hashes(chunk, vecs), stored,
                                                     stats, done))
                if pending is not None:
                    pending.result()
                pending = writer.submit(self._write, points, done)
                if progress:
                    progress(len(chunk))
            if pending is not None:
                pending.result()
        self.stats = stats
        if self._count_written(stats["embedded"]):
            self.optimize()
        return ids

    async def aadd(self, records: Iterable[Record], *, dense: Sequence[Sequence[float]] | None = None,
                   progress: Callable[[int], None] | None = None,
                   skip_unchanged: bool = True) -> list[str]:
        batches, size = self._batches(records, dense)
        stats, ids, done = {"embedded": 0, "unchanged": 0}, [], set()
        pending: asyncio.Task | None = None
        try:
            with self._partial(records, ids, done):
                for chunk, vecs in batches:
                    if not ids:
                        await self._aensure(create=True, dense_size=size)
                        self._check_writes(dense)
                        if self._unsigned:
                            await self.engine.aset_signature(self.collection, self._signed())
                    ids.extend(r.id for r in chunk)
                    stored = await self.engine.ascroll(self.collection, self._has_ids(chunk), len(chunk)) \
                        if skip_unchanged else []
                    changed = self._changed(chunk, vecs, self._hashes(chunk, vecs), stored, stats, done)
                    points = await asyncio.to_thread(self._points, *changed)
                    if pending is not None:
                        await pending
                    pending = asyncio.create_task(self._awrite(points, done))
                    if progress:
                        progress(len(chunk))
                if pending is not None:
                    await pending
        finally:
            if pending is not None and not pending.done():
                await asyncio.wait([pending])  # never leave a write running behind an error
        self.stats = stats
        if self._count_written(stats["embedded"]):
            await self.aoptimize()
        return ids

    def _write(self, points: list[payload.Point], done: set[str]) -> None:
        for a, b in _requests(points, self.upsert_batch):
            self.engine.upsert(self.collection, points[a:b])
            done.update(p.id for p in points[a:b])

    async def _awrite(self, points: list[payload.Point], done: set[str]) -> None:
        for a, b in _requests(points, self.upsert_batch):
            await self.engine.aupsert(self.collection, points[a:b])
            done.update(p.id for p in points[a:b])

    @contextlib.contextmanager
    def _partial(self, records: Iterable[Record], ids: list[str], done: set[str]):
        """An engine failure part-way through an add says which records are stored."""
        try:
            yield
        except (StorageLockedError, WriteError):
            raise
        except EngineError as e:
            known = isinstance(records, Sequence)
            every = [r.id for r in records] if known else ids
            written = [i for i in every if payload.point_id(i) in done]
            missing = [i for i in every if payload.point_id(i) not in done]
            rest = "" if known else " (and whatever the iterable had not yielded yet)"
            raise WriteError(
                f"add() stopped after storing {len(written)} of {len(every)} records{rest}: {e}. "
                f"Not written: {_some(missing)}. Written: {_some(written)}. Ids are deterministic: "
                "add the same records again to finish (unchanged ones are skipped).",
                written, missing) from e

    def reembed(self, *, batch_size: int = 256,
                progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
        """Embed the stored texts into every named vector these models use and stored points
        lack, in place, without the sources: add a model (``Models(late_interaction=...)``),
        or replace one under a new vector name (``vector_names={"dense": "dense-v2"}``, then
        `drop_vector` the old one). Missing vectors are created first. Resumable: only points
        still without a vector are embedded, so a stopped run continues where it stopped.
        Returns {vector name: points embedded}; ``progress(name, n)`` after each batch."""
        found = self.engine.schema(self.collection)
        expected, fields = self._reembed_schema(found)
        for field in fields:
            self.engine.add_vector(self.collection, field)
        self._schema = None
        self._ensure(create=False)
        if self._unsigned:
            self.engine.set_signature(self.collection, self._signed())
        filled = {}
        for field in expected.fields:
            refill = Refill(field, batch_size)
            while (fresh := refill.take(self.engine.scroll(self.collection, refill.lacking(),
                                                           batch_size))) is not None:
                if fresh:
                    self.engine.update_vectors(self.collection, refill.points(self, fresh))
                    if progress:
                        progress(field.name, len(fresh))
            filled[field.name] = refill.filled
            self._lacking[field.name] = self.engine.count(self.collection, filters.lacking_vector(field.name))
        return filled

    async def areembed(self, *, batch_size: int = 256,
                       progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
        found = await self.engine.aschema(self.collection)
        expected, fields = await asyncio.to_thread(self._reembed_schema, found)
        for field in fields:
            await self.engine.aadd_vector(self.collection, field)
        self._schema = None
        await self._aensure(create=False)
        if self._unsigned:
            await self.engine.aset_signature(self.collection, self._signed())
        filled = {}
        for field in expected.fields:
            refill = Refill(field, batch_size)
            while (fresh := refill.take(await self.engine.ascroll(self.collection, refill.lacking(),
                                                                  batch_size))) is not None:
                if fresh:
                    points = await asyncio.to_thread(refill.points, self, fresh)
                    await self.engine.aupdate_vectors(self.collection, points)
                    if progress:
                        progress(field.name, len(fresh))
            filled[field.name] = refill.filled
            self._lacking[field.name] = await self.engine.acount(
                self.collection, filters.lacking_vector(field.name))
        return filled

    def drop_vector(self, name: str) -> None:
        """Delete a named vector from every point (e.g. the old one after a model change)."""
        self._check_droppable(name)
        stored = self.engine.schema(self.collection)
        self.engine.drop_vector(self.collection, name)
        if stored is not None and stored.signature is not None:
            self.engine.set_signature(self.collection, rules.with_vectors(stored.signature, {}, (name,)))
        self._schema = None

    async def adrop_vector(self, name: str) -> None:
        self._check_droppable(name)
        stored = await self.engine.aschema(self.collection)
        await self.engine.adrop_vector(self.collection, name)
        if stored is not None and stored.signature is not None:
            await self.engine.aset_signature(self.collection,
                                             rules.with_vectors(stored.signature, {}, (name,)))
        self._schema = None

    def create(self, dense_size: int | None = None, *, unless_held: bool = False) -> None:
        """Create the collection now (it is otherwise created on first write), or check
        an existing one against the models. ``dense_size`` is for caller-supplied dense
        vectors when the models have no dense model. ``unless_held``: leave it to the first
        call while another object of this process still holds the folder (a notebook cell
        rebinding its store: the old store is released once the name is rebound)."""
        folder = getattr(self.engine, "folder", None)
        if unless_held and folder is not None and not folder.try_acquire():
            return
        self._ensure(create=True, dense_size=dense_size)

    async def acreate(self, dense_size: int | None = None) -> None:
        await self._aensure(create=True, dense_size=dense_size)

    def open(self) -> None:
        """Check that the collection exists and matches the models (again: this also
        recounts the points that lack a vector, after other clients wrote to a server)."""
        self._schema = None
        self._ensure(create=False)

    async def aopen(self) -> None:
        self._schema = None
        await self._aensure(create=False)

    def optimize(self) -> None:
        """Build the vector (HNSW) indexes now. Qdrant Edge never indexes by itself and holds
        the GIL while it does, so hybridstore calls this after every ``optimize_threshold``
        points an index writes (default 20,000; None: only on request); call it after a bulk
        ingest. Until then searches are exact (brute force), and correct either way."""
        if self._exists():
            self.engine.optimize(self.collection)
        self._written = 0

    async def aoptimize(self) -> None:
        if await self._aexists():
            await self.engine.aoptimize(self.collection)
        self._written = 0

    def delete(self, ids: Sequence[str] | None = None, *, filter: Any = None,
               doc_id: str | Sequence[str] | None = None) -> None:
        """Delete by ids, by filter, by source document, or by all of them at once (AND).
        Ids that are not stored are not an error."""
        flt = self._selector(ids, filter, doc_id, needed=True)
        if self._exists():
            self.engine.delete(self.collection, flt)

    async def adelete(self, ids: Sequence[str] | None = None, *, filter: Any = None,
                      doc_id: str | Sequence[str] | None = None) -> None:
        flt = self._selector(ids, filter, doc_id, needed=True)
        if await self._aexists():
            await self.engine.adelete(self.collection, flt)

    def drop(self) -> None:
        """Delete the whole collection."""
        self.engine.drop(self.collection)
        self._schema = None

    async def adrop(self) -> None:
        await self.engine.adrop(self.collection)
        self._schema = None

    # -- reading -----------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, *, filter: Any = None,
               ids: Sequence[str] | None = None, doc_id: str | Sequence[str] | None = None,
               dense_vector: Sequence[float] | None = None, **options: Any) -> list[Hit]:
        """Best `k` records for `query`, best first.

        Options: ``mode`` ("dense", "sparse", "hybrid"; default: the strongest the models
        allow), ``rerank`` (late interaction; default on when a late model is set),
        ``fusion`` ("dbsf", the default, or "rrf"), ``weights`` ((dense, sparse); RRF),
        ``rrf_k`` (RRF),
        ``mmr`` (lambda_mult: 1 = pure relevance, 0 = most diverse), ``fetch_k``,
        ``score_threshold``, ``oversample`` (prefetch depth = k * oversample).
        ``filter``: the filter language dict or a qdrant Filter; ``ids`` / ``doc_id``
        restrict the search to those records / source documents.
        ``dense_vector``: a ready dense query vector instead of embedding `query`.
        ``dense_limit`` / ``sparse_limit``: per-source prefetch depths for hybrid.
        """
        req = self._check_search(query, k, dense_vector, options)
        flt = self._selector(ids, filter, doc_id)
        self._ensure(create=False)
        self._complete(req)
        vectors = self._query_vectors([query], req, dense_vector)[0]
        if req.group_by:
            return self._search_groups(req, vectors, flt)
        plan = qplan.build_plan(req, vectors, self.names, flt)
        return self._hits(plan, self.engine.query(self.collection, plan))

    def search_batch(self, queries: Sequence[str], k: int = 10, *, filter: Any = None,
                     **options: Any) -> list[list[Hit]]:
        """`search` for many queries at once: one embedding batch per model and one batch
        request to the engine. Takes the options of `search` (not grouping)."""
        req, flt = self._check_batch(queries, k, filter, options)
        self._ensure(create=False)
        self._complete(req)
        plans = [qplan.build_plan(req, v, self.names, flt)
                 for v in self._query_vectors(queries, req, None)]
        return [self._hits(p, f) for p, f in zip(plans, self.engine.query_batch(self.collection, plans), strict=True)]

    async def asearch_batch(self, queries: Sequence[str], k: int = 10, *, filter: Any = None,
                            **options: Any) -> list[list[Hit]]:
        req, flt = self._check_batch(queries, k, filter, options)
        await self._aensure(create=False)
        await self._acomplete(req)
        vectors = await asyncio.to_thread(self._query_vectors, queries, req, None)
        plans = [qplan.build_plan(req, v, self.names, flt) for v in vectors]
        found = await self.engine.aquery_batch(self.collection, plans)
        return [self._hits(p, f) for p, f in zip(plans, found, strict=True)]

    async def asearch(self, query: str, k: int = 10, *, filter: Any = None,
                      ids: Sequence[str] | None = None, doc_id: str | Sequence[str] | None = None,
                      dense_vector: Sequence[float] | None = None, **options: Any) -> list[Hit]:
        req = self._check_search(query, k, dense_vector, options)
        flt = self._selector(ids, filter, doc_id)
        await self._aensure(create=False)
        await self._acomplete(req)
        vectors = (await asyncio.to_thread(self._query_vectors, [query], req, dense_vector))[0]
        if req.group_by:
            return await self._asearch_groups(req, vectors, flt)
        plan = qplan.build_plan(req, vectors, self.names, flt)
        return self._hits(plan, await self.engine.aquery(self.collection, plan))

    def get(self, ids: Sequence[str] | None = None, *, filter: Any = None,
            doc_id: str | Sequence[str] | None = None, limit: int | None = None) -> list[Record]:
        """Stored records: for `ids` in that order (ids not stored are left out), or all
        records matching `filter` / `doc_id` (up to `limit`)."""
        flt = self._selector(ids, filter, doc_id)
        if ids is not None and not ids or not self._exists():
            return []
        return self._records(ids, self.engine.scroll(self.collection, flt, limit))

    async def aget(self, ids: Sequence[str] | None = None, *, filter: Any = None,
                   doc_id: str | Sequence[str] | None = None, limit: int | None = None) -> list[Record]:
        flt = self._selector(ids, filter, doc_id)
        if ids is not None and not ids or not await self._aexists():
            return []
        return self._records(ids, await self.engine.ascroll(self.collection, flt, limit))

    def count(self, filter: Any = None) -> int:
        flt = filters.to_filter(filter, self.layout.metadata_prefix)
        return self.engine.count(self.collection, flt) if self._exists() else 0

    async def acount(self, filter: Any = None) -> int:
        flt = filters.to_filter(filter, self.layout.metadata_prefix)
        return await self.engine.acount(self.collection, flt) if await self._aexists() else 0

    def info(self) -> dict[str, Any]:
        """The collection as stored (vectors, the models recorded as their makers, how many
        points have each) beside the models configured now, and the storage."""
        schema = self.engine.schema(self.collection)
        configured = sig.vectors_of(rules.expected(self.models, self.names, None).signature)
        stored = sig.vectors_of(schema.signature) if schema else {}
        total = self.count() if schema else 0
        vectors = []
        for f in schema.fields if schema else ():
            lacking = self.engine.count(self.collection, filters.lacking_vector(f.name))
            vectors.append({
                "name": f.name, "kind": f.kind, "size": f.size, "points": total - lacking,
                "lacking": lacking,
                "stored_model": sig.label(stored[f.name]) if f.name in stored else None,
                "configured_model": sig.label(configured[f.name]) if f.name in configured else None,
                "same_model": (sig.compare(stored[f.name], configured[f.name])[0] is None)
                if f.name in stored and f.name in configured else None,
            })
        return {"collection": self.collection, "storage": self.engine.describe(),
                "exists": schema is not None, "count": total, "vectors": vectors,
                "signature_recorded": bool(stored), "models": self.models.describe()}

    def close(self) -> None:
        """Close the engine and release the storage (an on-disk folder's lock)."""
        self.engine.close()

    async def aclose(self) -> None:
        """`close`, and a server's async client too."""
        await self.engine.aclose()

    # -- shared, I/O-free steps ----------------------------------------------------------------
    def _batches(self, records: Iterable[Record], dense: Any) -> tuple[Iterator[tuple[list, Any]], int | None]:
        """Chunks of (records, dense vectors) to embed and write, and the caller dense size."""
        if isinstance(records, (str, Record)):
            raise InvalidInputError("add() takes an iterable of Records, not a single item")
        if not isinstance(records, Sequence):
            if dense is not None:
                raise InvalidInputError("dense= needs the records as a list, one vector each")
            return _stream(iter(records)), None
        records = list(records)
        payload.validate_records(records)
        size = payload.check_dense(dense, len(records), None) if dense is not None else None
        return ((records[a:b], dense[a:b] if dense is not None else None)
                for a, b in _chunks(len(records), EMBED_CHUNK)), size

    def _schema_has_dense(self) -> bool:
        return self._schema is not None and self._schema.by_kind("dense") is not None

    def _check_writes(self, dense: Any) -> None:
        """Before the first write: caller vectors fit, and every vector gets filled."""
        self._check_dense_size(dense)
        produced = {self.names[k] for k in self.models.kinds()}
        if dense is not None:
            produced.add(self.names["dense"])
        rules.unfilled(self.collection, self._schema, produced)

    def _signed(self) -> dict[str, Any]:
        """The stored signature completed with the vectors it had no record of (said once)."""
        if not sig.vectors_of(self._schema.signature):  # new vectors of a signed one need no word
            rules.recorded_now(self.collection, self._unsigned, self._want)
        added = {n: sig.vectors_of(self._want.signature)[n] for n in self._unsigned}
        self._unsigned = []
        signed = rules.with_vectors(self._schema.signature, added)
        self._schema = Schema(self._schema.fields, signed)
        return signed

    def _complete(self, req: qplan.SearchRequest) -> None:
        """A search never leaves out points silently: recount the gaps the cache knows of."""
        for field in self._gaps(req):
            self._lacking[field.name] = self.engine.count(self.collection, filters.lacking_vector(field.name))
        self._raise_gaps(req)

    async def _acomplete(self, req: qplan.SearchRequest) -> None:
        for field in self._gaps(req):
            self._lacking[field.name] = await self.engine.acount(
                self.collection, filters.lacking_vector(field.name))
        self._raise_gaps(req)

    def _gaps(self, req: qplan.SearchRequest) -> list[Any]:
        fields = [self._schema.by_name(self.names[k]) for k in qplan.query_kinds(req)]
        return [f for f in fields if f is not None and self._lacking.get(f.name, 0) > 0]

    def _raise_gaps(self, req: qplan.SearchRequest) -> None:
        for field in self._gaps(req):
            raise rules.missing_vectors(self.collection, field, self._lacking[field.name])

    def _check_dense_size(self, dense: Any) -> None:
        field = self._schema.by_kind("dense")
        if dense is not None and any(v is None for v in dense) and self.models.dense is None:
            raise InvalidInputError("some records have no dense vector and this index has no "
                                    "dense model to embed them; pass every vector or Models(dense=...)")
        if field is not None and dense is not None:
            payload.check_dense(dense, len(dense), field.size)
        elif field is not None and self.models.dense is None:
            raise InvalidInputError(
                "the collection has a dense vector but this index has no dense model; "
                "pass dense= vectors or configure Models(dense=...)"
            )
        elif field is None and dense is not None:
            raise InvalidInputError(f"collection {self.collection!r} has no dense vector for dense=")

    def _hashes(self, records: list[Record], dense: Any) -> list[str]:
        signature = self.models.signature()
        return [payload.content_hash(r, signature, dense[i] if dense is not None else None)
                for i, r in enumerate(records)]

    def _has_ids(self, records: list[Record]) -> qm.Filter:
        return filters.has_ids([payload.point_id(r.id) for r in records])

    def _changed(self, records: list[Record], dense: Any, hashes: list[str], stored: list[Found],
                 stats: dict[str, int], done: set[str]) -> tuple[list[Record], Any, list[str]]:
        """Leave out records whose stored content hash is the one they would get now."""
        was = {f.id: f.payload.get(self.layout.hash_key) for f in stored}
        unchanged = {payload.point_id(r.id) for i, r in enumerate(records)
                     if was.get(payload.point_id(r.id)) == hashes[i]}
        keep = [i for i, r in enumerate(records) if payload.point_id(r.id) not in unchanged]
        done.update(unchanged)  # already stored as they are
        stats["embedded"] += len(keep)
        stats["unchanged"] += len(records) - len(keep)
        return ([records[i] for i in keep], [dense[i] for i in keep] if dense is not None else None,
                [hashes[i] for i in keep])

    def _points(self, records: list[Record], dense: Any, hashes: list[str] | None = None) -> list[payload.Point]:
        """Embed with every model; caller dense vectors win, None entries get the model's."""
        if not records:
            return []
        kinds = [k for k in self.models.kinds() if not (k == "dense" and dense is not None)]
        vectors = self.models.embed_documents([r.text for r in records], kinds)
        if dense is not None:
            dense = list(dense)
            missing = [i for i, v in enumerate(dense) if v is None]
            if missing:
                own = self.models.dense.embed_documents([records[i].text for i in missing])
                for i, v in zip(missing, own, strict=True):
                    dense[i] = v
            vectors["dense"] = dense
        return payload.to_points(records, vectors, self.names, self.layout, hashes)

    def _check_search(self, text: Any, k: Any, dense_vector: Any,
                      options: dict) -> qplan.SearchRequest:
        unknown = set(options) - set(SEARCH_OPTIONS)
        if unknown:
            raise InvalidInputError(
                f"unknown search option(s) {sorted(unknown)}; known: {', '.join(SEARCH_OPTIONS[1:])}"
            )
        if not isinstance(text, str) or (not text.strip() and dense_vector is None):
            raise InvalidInputError(f"query must be a non-empty string, got {text!r}")
        if not payload.is_utf8(text):
            raise InvalidInputError("query text is not valid Unicode (a lone surrogate); fix its encoding")
        available = set(self.models.kinds()) | ({"dense"} if dense_vector is not None else set())
        req = qplan.resolve(qplan.SearchRequest(k=k, **options), available)
        if dense_vector is not None:
            size = self._schema.by_kind("dense").size if self._schema_has_dense() else None
            payload.check_dense([dense_vector], 1, size)
        return req

    def _query_vectors(self, texts: Sequence[str], req: qplan.SearchRequest,
                       dense_vector: Any) -> list[dict[str, Any]]:
        """Plain query vectors per text, one embedding batch per model."""
        kinds = qplan.query_kinds(req)
        missing = [k for k in kinds if self._schema.by_name(self.names[k]) is None]
        if missing:
            raise SchemaMismatchError(
                f"collection {self.collection!r} has no {', '.join(missing)} vector for this query"
            )
        own = [k for k in kinds if not (k == "dense" and dense_vector is not None)]
        by_kind = self.models.embed_queries(texts, own)
        if dense_vector is not None:
            by_kind["dense"] = [list(dense_vector)] * len(texts)
        return [{k: payload.plain_vector(k, vs[i]) for k, vs in by_kind.items()}
                for i in range(len(texts))]

    def _check_batch(self, texts: Any, k: Any, filter: Any,
                     options: dict) -> tuple[qplan.SearchRequest, qm.Filter | None]:
        if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts:
            raise InvalidInputError("search_batch() takes a non-empty list of query strings")
        if options.get("group_by"):
            raise InvalidInputError("search_batch() does not group; call search(group_by=...)")
        reqs = [self._check_search(t, k, None, options) for t in texts]
        return reqs[0], self._selector(None, filter, None)

    # -- grouped search: native where the engine groups, else oversample and group here ------
    def _group_plan(self, req: qplan.SearchRequest, vectors: dict, flt: Any,
                    limit: int) -> qplan.QueryPlan:
        return qplan.build_plan(replace(req, k=limit, group_by=None), vectors, self.names, flt)

    def _group_path(self, req: qplan.SearchRequest) -> str:
        return groups.key_path(req.group_by, self.layout.metadata_prefix)

    def _search_groups(self, req: qplan.SearchRequest, vectors: dict, flt: Any) -> list[Hit]:
        plan = self._group_plan(req, vectors, flt, req.k)
        native = self.engine.query_groups(self.collection, plan, self._group_path(req), req.group_size)
        if native is not None:
            return self._hits(plan, native)
        limit = req.k * req.group_size * 2
        while True:
            plan = self._group_plan(req, vectors, flt, limit)
            found = self.engine.query(self.collection, plan)
            picked, enough = groups.pick(self._hits(plan, found), req.group_by, req.k, req.group_size)
            if enough or len(found) < limit:
                return picked
            limit *= 2

    async def _asearch_groups(self, req: qplan.SearchRequest, vectors: dict, flt: Any) -> list[Hit]:
        plan = self._group_plan(req, vectors, flt, req.k)
        native = await self.engine.aquery_groups(self.collection, plan, self._group_path(req),
                                                 req.group_size)
        if native is not None:
            return self._hits(plan, native)
        limit = req.k * req.group_size * 2
        while True:
            plan = self._group_plan(req, vectors, flt, limit)
            found = await self.engine.aquery(self.collection, plan)
            picked, enough = groups.pick(self._hits(plan, found), req.group_by, req.k, req.group_size)
            if enough or len(found) < limit:
                return picked
            limit *= 2

    def _selector(self, ids: Any, filter: Any, doc_id: Any, needed: bool = False) -> qm.Filter | None:
        """ids AND filter AND doc_id, as one Qdrant filter."""
        if needed and ids is None and filter is None and doc_id is None:
            raise InvalidInputError("delete() needs ids=, filter= or doc_id= (use drop() to delete all)")
        doc_ids = [doc_id] if isinstance(doc_id, str) else doc_id
        if doc_ids is not None and (not doc_ids or not all(isinstance(d, str) for d in doc_ids)):
            raise InvalidInputError(f"doc_id must be a string or a list of strings, got {doc_id!r}")
        has_id = filters.has_ids(self._check_ids(ids)) if ids is not None else None
        return filters.and_filters(has_id, filters.to_filter(filter, self.layout.metadata_prefix),
                                   filters.doc_id_filter(list(doc_ids)) if doc_ids else None)

    @staticmethod
    def _check_ids(ids: Any) -> list[str]:
        if isinstance(ids, str) or not all(isinstance(i, str) and i for i in ids):
            raise InvalidInputError(f"ids must be a list of non-empty strings, got {ids!r}")
        return [payload.point_id(i) for i in ids]

    def _reembed_schema(self, found: Schema | None) -> tuple[Schema, list[Any]]:
        """What the models write, and the vectors to add; checked before any is added."""
        if found is None:
            raise CollectionNotFoundError(f"collection {self.collection!r} does not exist; add records first")
        want = rules.expected(self.models, self.names, None)
        fields = new_fields(self.collection, want, found)
        rules.check_signature(self.collection, found, want)
        return want, fields

    def _check_droppable(self, name: str) -> None:
        if name in {self.names[k] for k in self.models.kinds()}:
            raise InvalidInputError(f"vector {name!r} is used by this index's models; drop it from an "
                                    "index whose models no longer use it")

    def _hits(self, plan: qplan.QueryPlan, found: list[Found]) -> list[Hit]:
        return [Hit(self.layout.to_record(f.payload, f.id), f.score, qplan.relevance(plan, f.score))
                for f in found]

    def _records(self, ids: Sequence[str] | None, found: list[Found]) -> list[Record]:
        records = [self.layout.to_record(f.payload, f.id) for f in found]
        if ids is None:
            return records
        by_point = {payload.point_id(r.id): r for r in records}
        return [by_point[p] for p in dict.fromkeys(payload.point_id(i) for i in ids) if p in by_point]

    # -- the few I/O steps with twins --------------------------------------------------------------
    def _ensure(self, create: bool, dense_size: int | None = None) -> None:
        if self._schema is not None:
            return
        with self._ensure_lock:  # one creator; others wait and find the schema set
            if self._schema is None:
                want = rules.expected(self.models, self.names, dense_size)
                found = self.engine.schema(self.collection)
                schema, self._unsigned = rules.accept(self.collection, found, want, create)
                if found is None:
                    self.engine.create(self.collection, schema)
                for field, kind in self._index_fields():
                    self.engine.index_payload(self.collection, field, kind)
                self._lacking = {f.name: 0 if found is None else self.engine.count(
                    self.collection, filters.lacking_vector(f.name)) for f in schema.fields}
                self._want, self._schema = want, schema  # only once the collection is ready

    async def _aensure(self, create: bool, dense_size: int | None = None) -> None:
        if self._schema is not None:
            return
        async with self._loop_lock():
            if self._schema is None:
                want = await asyncio.to_thread(rules.expected, self.models, self.names, dense_size)
                found = await self.engine.aschema(self.collection)
                schema, self._unsigned = rules.accept(self.collection, found, want, create)
                if found is None:
                    await self.engine.acreate(self.collection, schema)
                for field, kind in self._index_fields():
                    await self.engine.aindex_payload(self.collection, field, kind)
                self._lacking = {f.name: 0 if found is None else await self.engine.acount(
                    self.collection, filters.lacking_vector(f.name)) for f in schema.fields}
                self._want, self._schema = want, schema

    def _loop_lock(self) -> asyncio.Lock:
        """The ensure lock of the running event loop (an asyncio.Lock serves one loop)."""
        loop = asyncio.get_running_loop()
        with self._ensure_lock:
            if loop not in self._loop_locks:
                self._loop_locks[loop] = asyncio.Lock()
            return self._loop_locks[loop]

    def _index_fields(self) -> list[tuple[str, str]]:
        """doc_id always (delete-by-document), plus the metadata keys the user declared."""
        declared = [(self.layout.metadata_prefix + k, v) for k, v in self.payload_indexes.items()]
        return [("doc_id", "keyword"), *declared]

    def _count_written(self, n: int) -> bool:
        self._written += n
        return self.optimize_threshold is not None and self._written >= self.optimize_threshold

    def _exists(self) -> bool:
        return self._schema is not None or self.engine.schema(self.collection) is not None

    async def _aexists(self) -> bool:
        return self._schema is not None or await self.engine.aschema(self.collection) is not None


INDEX_KINDS = ("keyword", "integer", "float", "bool", "datetime", "text", "uuid")


def _check_indexes(indexes: dict[str, str]) -> dict[str, str]:
    bad = {k: v for k, v in indexes.items() if v not in INDEX_KINDS or not isinstance(k, str) or not k}
    if bad:
        raise ConfigurationError(
            f"payload_indexes {bad} are not valid; map metadata keys to one of {', '.join(INDEX_KINDS)}"
        )
    return dict(indexes)


def _stream(records: Iterator[Record]) -> Iterator[tuple[list[Record], None]]:
    """Validated chunks of an iterable; ids must stay unique across the whole stream."""
    seen: set[str] = set()
    while chunk := list(islice(records, EMBED_CHUNK)):
        payload.validate_records(chunk)
        pids = {payload.point_id(r.id) for r in chunk}
        if seen & pids:
            dup = next(r.id for r in chunk if payload.point_id(r.id) in seen)
            raise InvalidInputError(f"duplicate id {dup!r} in one add() call; ids must be unique per call")
        seen |= pids
        yield chunk, None


def _caller() -> str:
    """file:line of the first frame outside hybridstore and the frameworks: the user's code."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith(package) or "site-packages" in name or name.startswith("<frozen")):
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back
    return "an unknown place"


def _some(ids: list[str], shown: int = 5) -> str:
    if not ids:
        return "none"
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return f"{len(ids)} ({', '.join(map(repr, ids[:shown]))}{more})"


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def _requests(points: Sequence[payload.Point], size: int) -> list[tuple[int, int]]:
    """Slices of at most `size` points and about REQUEST_NUMBERS vector numbers each (one
    point at least): an engine holds a whole request, and ColBERT points are large."""
    slices, start, numbers = [], 0, 0
    for i, point in enumerate(points):
        n = sum(len(v.indices) if isinstance(v, payload.SparseVec) else
                v.size if isinstance(v, np.ndarray) else len(v) for v in point.vectors.values())
        if i > start and (i - start >= size or numbers + n > REQUEST_NUMBERS):
            slices.append((start, i))
            start, numbers = i, 0
        numbers += n
    return slices + [(start, len(points))] if start < len(points) else slices
