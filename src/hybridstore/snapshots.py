"""Snapshots (backups) of a collection into one file, and restores from it, on any engine.

The file (`snapshot_file`) is engine-neutral, written by scrolling every point with its
vectors: a snapshot taken on Qdrant Edge restores into local mode or a server and back. (Edge's
own shard snapshots restore into edge only; local mode has none.)

Taken while writes continue, a snapshot is not one transaction: it reads the collection a page
at a time. Each point is read whole (an upsert replaces a whole point), so every record in the
file is complete, as one write left it; a write that lands during the snapshot is in the file
if its point is read after the write, and a record deleted meanwhile may still be in it.

A restore checks the whole file (format, checksum, signature) before it opens the target (a
refused file leaves no folder or collection behind), refuses to overwrite a collection holding
points unless asked (``replace``), creates the collection with the file's vectors, signature
(hence the models that made them: an index with other models is refused as on any open) and
storage, then writes the points and counts them.

A collection sharded by tenant (``tenant_shards``, a server's) is read one shard key at a time;
the file keeps each point's key, and a restore (into a server only) makes the same keys and
writes each point into its own.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Generator
from contextlib import closing
from functools import partial
from typing import Any, TypeVar

from .closing import Closable, Closes
from .collection import Collection
from .driver import Context, Pump, adrive, drive
from .engine import Engine
from .engine.requests import (
    PAGE,
    Count,
    Create,
    CreateShardKey,
    Drop,
    GetSchema,
    Offset,
    Optimize,
    Route,
    ScrollPage,
    ShardKeys,
    Write,
    ask,
)
from .errors import CollectionNotFoundError, ConfigurationError, EngineError, InvalidInputError
from .qdrant.storage import Storage
from .settings import Settings
from .snapshot_file import Manifest, Writer, check, read
from .steps import Steps, Work, ask_work

T = TypeVar("T")
Progress = Callable[[int], None] | None
Restoring = Generator[Work[Any] | tuple[Context, Steps[Any]], Any, T]  # work, or steps and where to run them


def snapshot(col: Collection, engine: str, path: str, batch: int = PAGE, progress: Progress = None) -> Steps[dict[str, int]]:
    """Steps: every point of the collection into the file at `path` (replaced when complete);
    sharded by tenant, every shard key's, each point with its key. {points, bytes};
    ``progress(n)`` after each page."""
    _whole(col, "snapshot")
    _check_batch(batch)
    _check_destination(path, col.name)
    schema = yield from ask(GetSchema())
    if schema is None:
        raise CollectionNotFoundError(f"collection {col.name!r} does not exist: nothing to snapshot")
    if not schema.signature:  # a restore needs it: refused now, not when the backup is needed
        raise ConfigurationError(f"collection {col.name!r} has no model signature (another tool made it): "
                                 "a snapshot could not be restored; copy it with copy_to instead")
    if schema.sharded and not col.settings.tenant_shards:  # read whole, its shard keys would be lost
        raise ConfigurationError(f"collection {col.name!r} is sharded by tenant: snapshot it through an index "
                                 "opened with its tenant_key= and tenant_shards=, which reads each shard key")
    keys: list[str] = []
    if col.settings.tenant_shards:
        keys = yield from ask(ShardKeys())
    manifest = Manifest(col.name, schema, schema.storage or Storage(), engine, shard_keys=tuple(keys))
    writer = yield from ask_work(Writer, path, manifest)
    try:
        shards: list[str | None] = [*keys] or [None]
        for key in shards:
            yield from _scrolled(writer, key, batch, progress)
        done = yield from ask_work(writer.finish)
    finally:
        writer.close()  # removes the partial file after an error
    return done


def _check_destination(path: str, name: str) -> None:
    """Refused before anything is read: a path that could not take the file (the writer's own
    error would name its temporary `.partial` file, not the fix)."""
    if not path.strip():
        raise InvalidInputError(f"snapshot path {path!r} is empty: name a file, e.g. {name + '.snapshot'!r}")
    if os.path.isdir(path) or path.endswith((os.sep, "/")):
        raise InvalidInputError(f"snapshot path {path!r} is a folder: name a file, e.g. "
                                f"{os.path.join(path, name + '.snapshot')!r}")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise InvalidInputError(f"snapshot path {path!r}: the folder {folder!r} does not exist; "
                                "create it first (mkdir -p), or name a file in a folder that exists")


def _scrolled(writer: Writer, key: str | None, batch: int, progress: Progress) -> Steps[None]:
    """Every point of shard key `key` (None: of the collection) into the file."""
    offset: Offset = None
    while True:
        page, offset = yield from ask(ScrollPage(None, batch, offset, with_vectors=True,
                                                 shard=Route(key) if key is not None else None))
        yield from ask_work(writer.write, page, key)
        if progress is not None and page:
            progress(writer.points)
        if offset is None:
            return


class Target(Closes):
    """Where a restore writes, opened only once the file is found whole; closed after it (the
    index's own engine: an Engine you passed stays open)."""

    def __init__(self, settings: Settings, open_target: Callable[[Settings], tuple[Context, Closable | None]]) -> None:
        self.settings = settings
        self._open = open_target
        self._owned: Closable | None = None

    def open(self) -> Context:
        ctx, self._owned = self._open(self.settings)
        return ctx

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()

    async def aclose(self) -> None:
        if self._owned is not None:
            await self._owned.aclose()


def restoring(path: str, target: Target, replace: bool, batch: int = PAGE,
              progress: Progress = None) -> Restoring[dict[str, int]]:
    """The file checked whole, then `target` opened (on the caller's thread, where its engine
    stays) and the file restored into its collection. {points}."""
    _check_batch(batch)
    manifest: Manifest = yield Work(partial(check, path))
    _shardable(path, manifest, target.settings)
    ctx = target.open()
    done: dict[str, int] = yield ctx, restore(ctx.known(), str(ctx.engine.describe()["engine"]), path,
                                              manifest, replace, batch, progress)
    return done


def run(steps: Restoring[T]) -> T:
    return Pump(steps).run(lambda step: step.call() if isinstance(step, Work) else drive(*step))


async def arun(steps: Restoring[T]) -> T:
    return await Pump(steps).arun(lambda step: asyncio.to_thread(step.call) if isinstance(step, Work)
                                  else adrive(*step))


def restore(col: Collection, engine: str, path: str, manifest: Manifest, replace: bool, batch: int = PAGE,
            progress: Progress = None) -> Steps[dict[str, int]]:
    """Steps: the file at `path` (its `manifest` checked) restored as `col`'s collection. {points}."""
    _whole(col, "restore")
    found = yield from ask(GetSchema())
    if found is not None:
        held = yield from ask(Count())
        if held and not replace:
            raise ConfigurationError(f"collection {col.name!r} holds {held} points: restore refuses to "
                                     "overwrite it; pass replace=True (--replace) to drop it first, or "
                                     "restore into another collection")
        yield from ask(Drop())
    st = col.settings
    storage = st.storage or (Storage() if engine == "local" else manifest.storage)  # local mode has none
    yield from ask(Create(manifest.schema, sharded=bool(manifest.shard_keys), storage=storage, shards=st.shards,
                          replicas=st.replicas))
    for key in manifest.shard_keys:
        yield from ask(CreateShardKey(key))
    col.state.invalidate()  # what the index knew of the collection is gone
    written = 0
    with closing(read(path, manifest, batch)) as pages:  # the file closed after an error too
        while True:
            read_page = yield from ask_work(next, pages, None)
            if read_page is None:
                break
            shard, page = read_page
            yield from ask(Write(page, shard=Route(shard) if shard is not None else None))
            written += len(page)
            if progress is not None:
                progress(written)
    yield from ask(Optimize())
    have = yield from ask(Count())
    if have != manifest.points:
        raise EngineError(f"restore of {path} into {col.name!r}: the file holds {manifest.points} points, "
                          f"the collection {have} after writing them (were other writers at work?); "
                          "restore again with replace=True")
    return {"points": have}


def _whole(col: Collection, what: str) -> None:
    if col.tenant is not None:
        raise ConfigurationError(f"{what} works on whole collections: call it on the index, not a tenant view")


def _shardable(path: str, manifest: Manifest, settings: Settings) -> None:
    """A file's shard keys go to a Qdrant server; a target sharded by tenant needs them."""
    if manifest.shard_keys and not served(settings):
        raise ConfigurationError(f"{path} holds a collection sharded by tenant (shard keys "
                                 f"{', '.join(manifest.shard_keys)}): restore it into a Qdrant server "
                                 "(url=...), which keeps shard keys; embedded engines have none")
    if settings.tenant_shards and not manifest.shard_keys:
        raise ConfigurationError(f"{path} holds a collection not sharded by tenant: restore it without "
                                 "tenant_shards= (its tenants stay apart by the tenant key), or copy each "
                                 "tenant's records into a sharded index through its view")


def _check_batch(batch: int) -> None:
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 10_000:
        raise ConfigurationError(f"batch={batch!r}: use 1 to 10000 points per page")


def served(settings: Settings) -> bool:
    """Whether `settings` name a Qdrant server (known before anything is opened)."""
    engine = settings.engine
    if isinstance(engine, Engine):
        return bool(engine.describe()["engine"] == "server")
    return settings.url is not None or settings.client is not None
