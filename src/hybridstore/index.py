"""`HybridIndex`: the framework-free facade over models, the Qdrant layer and an engine.

Each operation is written once, as steps (`ingest`, `search`, `reembed`, `collection`), and run
by `driver.drive` or, for the `a` twin, `driver.adrive`: the twins differ in nothing else.
Async runs model inference in a worker thread so it never blocks the event loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

from . import collection, copying, ingest, reembed, search, snapshots, whynot
from .closing import Closable, Closes
from .collection import Collection
from .driver import Context, Locks, adrive, drive
from .engine import Engine
from .engine.folder import opened_at
from .inference import Models, check_models
from .qdrant.layouts import Layout
from .records import Hit, Record
from .selection import Selection
from .settings import Settings, check_collection_name
from .steps import Steps
from .tenancy import Tenancy
from .whynot import WhyNot

T = TypeVar("T")


class HybridIndex(Closes, Tenancy):
    """Dense, sparse and late-interaction vectors of one Qdrant collection.

    Storage and indexing options are those of `hybridstore.Settings` (``location``, ``path``,
    ``url``, ``api_key``, ``client``, ``engine``, ``vector_names``, ``payload_layout``,
    ``payload_indexes``, ``optimize_threshold``, ...), given as keywords or as ``settings=``.
    An on-disk folder is locked while the index is open: close it, or use ``with``.
    """

    def __init__(self, collection: str, models: Models | None = None, *,
                 settings: Settings | None = None, **options: Any) -> None:
        self.settings = Settings.of(settings, **options)
        self.collection = check_collection_name(collection)
        models = check_models(models) if models is not None else Models()
        self.engine: Engine = self.settings.open_engine()
        self._col = Collection.of(collection, models, self.settings)
        self._locks = Locks()  # shared by the tenant views
        if self.engine.folder is not None:  # named in the error a second open of the folder gets
            self.engine.folder.owner = f"HybridIndex({collection!r}) opened at {opened_at()}"

    def __repr__(self) -> str:
        return f"HybridIndex({self.collection!r}, {self.models!r}, engine={self.engine!r})"

    @property
    def models(self) -> Models:
        return self._col.models

    @models.setter
    def models(self, models: Models) -> None:
        """Other models: checked against the collection at the next call."""
        self._col = self._col.with_models(models)

    @property
    def names(self) -> dict[str, str]:
        """Named vector per kind (``dense``, ``sparse``, ``late`` unless ``vector_names``)."""
        return self._col.names

    @property
    def layout(self) -> Layout:
        """Where text, metadata and ids sit in the payload."""
        return self._col.layout

    @property
    def stats(self) -> dict[str, int]:
        """What the last add embedded and what it skipped as unchanged."""
        return self._col.state.stats

    # -- writing -----------------------------------------------------------------------------
    def add(self, records: Iterable[Record], *, dense: Sequence[Sequence[float] | None] | None = None,
            progress: Callable[[int], None] | None = None, skip_unchanged: bool = True) -> list[str]:
        """Embed and store records (re-adding an id overwrites it); returns their ids.

        A list is checked whole before anything is written; any other iterable streams in
        checked chunks of 256, in bounded memory. ``dense``: your own dense vectors, one per
        record. ``skip_unchanged``: records stored as they are are left alone, and those whose
        text (and models, and dense vector) is as stored only get their new metadata, without
        an embedding (see `stats`). ``progress(n)``
        after each chunk. Every vector of the collection is filled, or nothing is written.
        """
        return self._drive(ingest.add(self._col, records, dense, progress, skip_unchanged))

    async def aadd(self, records: Iterable[Record], *, dense: Sequence[Sequence[float] | None] | None = None,
                   progress: Callable[[int], None] | None = None,
                   skip_unchanged: bool = True) -> list[str]:
        return await self._adrive(ingest.add(self._col, records, dense, progress, skip_unchanged))

    def delete(self, ids: Sequence[str] | None = None, *, filter: object = None,
               doc_id: str | Sequence[str] | None = None) -> None:
        """Delete by ids, by filter, by source document, or by all of them at once (AND).
        Ids that are not stored are not an error."""
        self._drive(ingest.delete(self._col, Selection(ids, filter, doc_id)))

    async def adelete(self, ids: Sequence[str] | None = None, *, filter: object = None,
                      doc_id: str | Sequence[str] | None = None) -> None:
        await self._adrive(ingest.delete(self._col, Selection(ids, filter, doc_id)))

    def reembed(self, *, batch_size: int = 256,
                progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
        """Embed the stored texts into every vector these models use and points lack, in
        place and resumably: a model added, or one replaced under a new vector name (then
        `drop_vector` the old). Returns {vector: points embedded}; ``progress(name, n)``."""
        return self._drive(reembed.reembed(self._col, batch_size, progress))

    async def areembed(self, *, batch_size: int = 256,
                       progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
        return await self._adrive(reembed.reembed(self._col, batch_size, progress))

    def drop_vector(self, name: str) -> None:
        """Delete a named vector from every point (e.g. the old one after a model change)."""
        self._drive(reembed.drop_vector(self._col, name))

    async def adrop_vector(self, name: str) -> None:
        await self._adrive(reembed.drop_vector(self._col, name))

    # -- the collection ---------------------------------------------------------------------
    def create(self, dense_size: int | None = None, *, unless_held: bool = False) -> None:
        """Create (or check) the collection now, not at the first write. ``dense_size``: for your
        own dense vectors; ``unless_held``: not while another object holds the folder."""
        if not (unless_held and self.engine.folder is not None and not self.engine.folder.try_acquire()):
            self._drive(collection.reopen(self._col, True, dense_size))

    async def acreate(self, dense_size: int | None = None) -> None:
        await self._adrive(collection.reopen(self._col, True, dense_size))

    def open(self) -> None:
        """Check the collection against the models (again: recounts points lacking a vector)."""
        self._drive(collection.reopen(self._col, False))

    async def aopen(self) -> None:
        await self._adrive(collection.reopen(self._col, False))

    def copy_to(self, target: HybridIndex, *, batch: int = 256, verify: int = 32, resume: bool = True,
                progress: Callable[[int], None] | None = None) -> dict[str, int]:
        """Copy this collection into `target`'s (any engine, see `copying`): vectors, payloads and
        model signature, nothing embedded; resumable, verified. {points, copied, skipped, verified}."""
        target.engine = copying.folder_engine(target.engine, target.settings)
        return copying.copy(self._context(), target._context(), batch, verify, resume, progress)

    async def acopy_to(self, target: HybridIndex, *, batch: int = 256, verify: int = 32, resume: bool = True,
                       progress: Callable[[int], None] | None = None) -> dict[str, int]:
        target.engine = copying.folder_engine(target.engine, target.settings)
        return await copying.acopy(self._context(), target._context(), batch, verify, resume, progress)

    def snapshot(self, path: str | os.PathLike[str], *, batch: int = 256,
                 progress: Callable[[int], None] | None = None) -> dict[str, int]:
        """Write the whole collection (points with every vector and payload, its model signature
        and storage) to one file at `path`, restorable on any engine (`restore`); taken while
        writes continue, each record in it is whole (see `snapshots`). {points, bytes}."""
        return self._drive(snapshots.snapshot(self._col, self._engine_kind(), os.fspath(path), batch, progress))

    async def asnapshot(self, path: str | os.PathLike[str], *, batch: int = 256,
                        progress: Callable[[int], None] | None = None) -> dict[str, int]:
        return await self._adrive(snapshots.snapshot(self._col, self._engine_kind(), os.fspath(path), batch, progress))

    @classmethod
    def restore(cls, path: str | os.PathLike[str], collection: str, /, *, replace: bool = False, batch: int = 256,
                progress: Callable[[int], None] | None = None, settings: Settings | None = None,
                **options: Any) -> dict[str, int]:
        """Restore the snapshot at `path` as `collection` where ``settings`` / ``options`` say
        (any engine: ``path=`` there is the index folder). The file is checked whole before the
        target is opened (a refused file leaves nothing behind); a collection holding points is
        refused unless ``replace=True`` (dropped, then restored); a file of a collection sharded
        by tenant restores into a server only. Open it afterwards with the models it was made
        with. {points}."""
        with snapshots.Target(Settings.of(settings, **options), partial(cls._restored, collection)) as target:
            return snapshots.run(snapshots.restoring(os.fspath(path), target, replace, batch, progress))

    @classmethod
    async def arestore(cls, path: str | os.PathLike[str], collection: str, /, *, replace: bool = False,
                       batch: int = 256, progress: Callable[[int], None] | None = None,
                       settings: Settings | None = None, **options: Any) -> dict[str, int]:
        async with snapshots.Target(Settings.of(settings, **options), partial(cls._restored, collection)) as target:
            return await snapshots.arun(snapshots.restoring(os.fspath(path), target, replace, batch, progress))

    @classmethod
    def _restored(cls, collection: str, settings: Settings) -> tuple[Context, Closable | None]:
        """A restore's target: the index's context, and the index when its engine is its own."""
        index = cls(collection, Models.unloaded(), settings=settings)
        return index._context(), index if index.engine is not index.settings.engine else None

    def optimize(self) -> None:
        """Build the vector (HNSW) indexes now (also after every ``optimize_threshold`` points
        written; Qdrant Edge never indexes by itself). Searches are exact until then."""
        self._drive(collection.optimize(self._col))

    async def aoptimize(self) -> None:
        await self._adrive(collection.optimize(self._col))

    def drop(self) -> None:
        """Delete the whole collection (refused on a tenant's view: see `drop_tenant`)."""
        self._drive(collection.drop(self._col))

    async def adrop(self) -> None:
        await self._adrive(collection.drop(self._col))

    def info(self, *, compare: bool = True) -> dict[str, Any]:
        """The collection as stored (vectors, the models recorded as their makers, how many
        points have each) beside the models configured now, and the storage. ``compare=False``:
        as stored alone (no model is loaded; ``configured_model`` and ``models`` are None)."""
        return self._drive(collection.info(self._col, self.engine.describe(), compare))

    # -- reading -----------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, *, filter: object = None,
               ids: Sequence[str] | None = None, doc_id: str | Sequence[str] | None = None,
               dense_vector: Sequence[float] | None = None, missing_ok: bool = False,
               explain: bool = False, **options: Any) -> list[Hit]:
        """Best `k` records for `query`, best first. Options: ``mode`` ("dense", "sparse",
        "hybrid"; default: the strongest the models allow), ``rerank`` (default on with a late
        model), ``fusion`` ("dbsf" default, "rrf"), ``weights``, ``rrf_k``, ``mmr`` (lambda),
        ``fetch_k``, ``score_threshold``, ``oversample``, ``dense_limit`` / ``sparse_limit``,
        ``group_by`` / ``group_size``. ``filter``, ``ids``, ``doc_id`` restrict the search;
        ``dense_vector`` is a ready query vector. Points lacking a vector the search uses make
        it raise `MissingVectorsError` instead of leaving them out. ``missing_ok``: no hits,
        instead of `CollectionNotFoundError`, while nothing has been written. ``explain``: each
        hit carries its `hybridstore.explain.Explanation` (docs/explain.md)."""
        return self._drive(search.search(self._col, search.Search(
            query, k, Selection(ids, filter, doc_id), dense_vector, options, missing_ok, self.engine.groups, explain)))

    async def asearch(self, query: str, k: int = 10, *, filter: object = None,
                      ids: Sequence[str] | None = None, doc_id: str | Sequence[str] | None = None,
                      dense_vector: Sequence[float] | None = None, missing_ok: bool = False,
                      explain: bool = False, **options: Any) -> list[Hit]:
        return await self._adrive(search.search(self._col, search.Search(
            query, k, Selection(ids, filter, doc_id), dense_vector, options, missing_ok, self.engine.groups, explain)))

    def why_not(self, query: str, id: str, k: int = 10, *, filter: object = None,
                ids: Sequence[str] | None = None, doc_id: str | Sequence[str] | None = None,
                dense_vector: Sequence[float] | None = None, **options: Any) -> WhyNot:
        """Where record `id` stands for `query` (the options of `search`), and the first reason
        it is not in the top `k` (docs/explain.md)."""
        return self._drive(whynot.why_not(self._col, search.Search(
            query, k, Selection(ids, filter, doc_id), dense_vector, options), id))

    async def awhy_not(self, query: str, id: str, k: int = 10, *, filter: object = None,
                       ids: Sequence[str] | None = None, doc_id: str | Sequence[str] | None = None,
                       dense_vector: Sequence[float] | None = None, **options: Any) -> WhyNot:
        return await self._adrive(whynot.why_not(self._col, search.Search(
            query, k, Selection(ids, filter, doc_id), dense_vector, options), id))

    def search_batch(self, queries: Sequence[str], k: int = 10, *, filter: object = None,
                     explain: bool = False, **options: Any) -> list[list[Hit]]:
        """`search` for many queries at once: one embedding batch per model and one batch
        request to the engine. Takes the options of `search` (not grouping)."""
        return self._drive(search.search_batch(self._col, queries, k, filter, options, explain))

    async def asearch_batch(self, queries: Sequence[str], k: int = 10, *, filter: object = None,
                            explain: bool = False, **options: Any) -> list[list[Hit]]:
        return await self._adrive(search.search_batch(self._col, queries, k, filter, options, explain))

    def get(self, ids: Sequence[str] | None = None, *, filter: object = None,
            doc_id: str | Sequence[str] | None = None, limit: int | None = None) -> list[Record]:
        """Stored records: for `ids` in that order (ids not stored are left out), or all
        records matching `filter` / `doc_id` (up to `limit`)."""
        return self._drive(search.get(self._col, Selection(ids, filter, doc_id), limit))

    async def aget(self, ids: Sequence[str] | None = None, *, filter: object = None,
                   doc_id: str | Sequence[str] | None = None, limit: int | None = None) -> list[Record]:
        return await self._adrive(search.get(self._col, Selection(ids, filter, doc_id), limit))

    def count(self, filter: object = None) -> int:  # in a tenant's view: the tenant's records
        return self._drive(collection.count(self._col, filter))

    async def acount(self, filter: object = None) -> int:
        return await self._adrive(collection.count(self._col, filter))

    def close(self) -> None:
        """Close the engine and release the storage (an on-disk folder's lock)."""
        self.engine.close()

    async def aclose(self) -> None:
        """`close`, and a server's async client too."""
        await self.engine.aclose()

    # -- the drivers --------------------------------------------------------------------------
    def _engine_kind(self) -> str:
        return str(self.engine.describe()["engine"])

    def _context(self) -> Context:
        return Context(self.engine, self.collection, self._col, self._locks)

    def _drive(self, steps: Steps[T]) -> T:
        return drive(self._context(), steps)

    async def _adrive(self, steps: Steps[T]) -> T:
        return await adrive(self._context(), steps)
