"""Copying a collection to another index, on any engine, with its vectors, payloads and model
signature and without embedding anything: bounded pages, resumable, verified at the end.

The target collection is created with the source's vectors and signature, and the target's own
settings (storage, shards, replicas). The target index then checks its models against what it
received, as on any open, before a point is copied. A copy cut short resumes: a page whose
points the target holds with the same payloads is skipped (``resume=False`` rewrites every
page). At the end the target is optimized, the counts must agree and a sample of points must
carry the same payload and vectors on both sides.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any, TypeVar

import numpy as np

from . import collection
from .driver import Context, Pump, adrive, drive
from .engine import Engine, held_engine
from .engine.requests import PAGE, Create, Drop, Found, GetSchema, Offset, ScrollPage, Write, ask
from .errors import CollectionNotFoundError, ConfigurationError, EngineError, HybridStoreError
from .qdrant import filters
from .qdrant.payload import Point, SparseVec, stored_id
from .qdrant.schema import Schema, differences
from .qdrant.storage import Storage
from .settings import Settings
from .steps import Steps

T = TypeVar("T")
Pair = tuple[Context, Steps[Any]]
Copying = Generator[Pair, Any, T]  # steps that span two indexes: each yields steps and where to run them


def copy(source: Context, target: Context, batch: int = PAGE, verify: int = 32,
         resume: bool = True, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    return run(_copy(source, target, batch, verify, resume, progress))


async def acopy(source: Context, target: Context, batch: int = PAGE, verify: int = 32,
                resume: bool = True, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    return await arun(_copy(source, target, batch, verify, resume, progress))


def run(steps: Copying[T]) -> T:
    """Drive steps that span two indexes: each pair's steps are driven on its context, their
    answer (or error) sent back in, by the driver's own pump."""
    return Pump(steps).run(lambda pair: drive(*pair))


async def arun(steps: Copying[T]) -> T:
    return await Pump(steps).arun(lambda pair: adrive(*pair))


def on(ctx: Context, steps: Steps[T]) -> Copying[T]:
    """Copying steps: `steps` run on `ctx`; their result."""
    result: T = yield ctx, steps
    return result


def _copy(source: Context, target: Context, batch: int, verify: int, resume: bool,
          progress: Callable[[int], None] | None) -> Copying[dict[str, int]]:
    _check(source, target, batch, verify)
    target_col = target.known()
    schema = yield from on(source, _required(source.name))
    found = yield from on(target, ask(GetSchema()))
    if found is None:
        st = target_col.settings
        yield from on(target, ask(Create(schema, storage=st.storage or Storage(), shards=st.shards,
                                         replicas=st.replicas)))
        try:
            yield from on(target, collection.reopen(target_col, False))  # its models must accept what it received
        except HybridStoreError:
            yield from on(target, ask(Drop()))  # made by this call and still empty: nothing of the user's is lost
            raise
    elif differences(schema, found) or dict(schema.signature or {}) != dict(found.signature or {}):
        raise ConfigurationError(
            f"target collection {target.name!r} exists and differs from {source.name!r} "
            f"({'; '.join(differences(schema, found)) or 'another model signature'}): drop it or copy "
            "into another collection")
    else:
        yield from on(target, collection.reopen(target_col, False))  # its models and storage, checked first
    copied = skipped = seen = 0
    sample: list[str] = []
    pick = random.Random(0)
    offset: Offset = None
    while True:
        page, offset = yield from on(source, ask(ScrollPage(None, batch, offset, with_vectors=True)))
        ids = [stored_id(f.id) for f in page]
        held = False
        if page and resume and found is not None:
            there = yield from _held(target, ids)
            held = there == {f.id: f.payload for f in page}
        if held:
            skipped += len(page)
        elif page:
            yield from on(target, ask(Write([Point(i, f.vectors or {}, f.payload) for i, f in zip(ids, page)])))
            copied += len(page)
        seen = _sample(sample, page, seen, verify, pick)
        if progress is not None and page:
            progress(copied + skipped)
        if offset is None:
            break
    yield from on(target, collection.reopen(target_col, False))  # recount what it holds (points lacking a vector)
    yield from on(target, collection.optimize(target_col))  # build the graphs (and the storage's layout) now
    yield from _verify(source, target, sample, seen)
    return {"points": seen, "copied": copied, "skipped": skipped, "verified": len(sample)}


def _sample(sample: list[str], page: list[Found], seen: int, size: int, pick: random.Random) -> int:
    """A reservoir: an even sample of every point, in bounded memory; the points seen so far."""
    for f in page:
        seen += 1
        if len(sample) < size:
            sample.append(f.id)
        else:
            j = pick.randrange(seen)
            if j < size:
                sample[j] = f.id
    return seen


def require_source(engine: Engine, name: str) -> Schema:
    """The source collection's schema; refused when there is none to copy."""
    return drive(Context(engine, name), _required(name))


def _required(name: str) -> Steps[Schema]:
    schema = yield from ask(GetSchema())
    if schema is None:
        raise CollectionNotFoundError(f"collection {name!r} does not exist: nothing to copy")
    return schema


def _check(source: Context, target: Context, batch: int, verify: int) -> None:
    mine, theirs = source.known(), target.known()
    if mine.tenant is not None or theirs.tenant is not None:
        raise ConfigurationError("copy_to copies whole collections: call it on the index, not a tenant view")
    if mine.settings.tenant_shards or theirs.settings.tenant_shards:
        raise ConfigurationError("copy_to does not copy collections sharded by tenant (tenant_shards=); "
                                 "copy each tenant's records through its view with add()")
    same_server = mine.settings.url is not None and mine.settings.url == theirs.settings.url
    if (source.engine is target.engine or same_server) and source.name == target.name:
        raise ConfigurationError(f"source and target are the same collection {source.name!r}")
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 10_000:
        raise ConfigurationError(f"batch={batch!r}: use 1 to 10000 points per page")
    if not isinstance(verify, int) or isinstance(verify, bool) or not 0 <= verify <= 1000:
        raise ConfigurationError(f"verify={verify!r}: compare 0 (counts only) to 1000 points")


def folder_engine(engine: Engine, settings: Settings) -> Engine:
    """The engine a copy's target writes through: on a folder an engine of this process holds
    (another collection of the source's folder), that engine, as the command line's copy
    does (`engine` is closed then); else `engine`."""
    folder = engine.folder
    if folder is None or folder.try_acquire():
        return engine
    held = held_engine(settings)
    if held is None:
        return engine
    engine.close()
    return held


def _held(target: Context, ids: list[Any]) -> Copying[dict[str, dict[str, Any]]]:
    """The target's payloads of these points: a page is there already when they are the
    source's (hybridstore's payloads hold hashes of the text and of what made the vectors)."""
    page, _ = yield from on(target, ask(ScrollPage(filters.has_ids(ids), len(ids))))
    return {f.id: f.payload for f in page}


def _verify(source: Context, target: Context, sample: list[str], seen: int) -> Copying[None]:
    have = yield from on(target, collection.count(target.known(), None))
    want = yield from on(source, collection.count(source.known(), None))
    if have > want:
        raise EngineError(f"the target {target.name!r} holds {have} points, the source "
                          f"{source.name!r} {want}: it has points the source lacks; drop it or "
                          "copy into another collection")
    if have != want or want != seen:
        raise EngineError(f"copy of {source.name!r} incomplete: the source holds {want} points "
                          f"({seen} read while copying), the target {have}; if the source was being "
                          "written to, run it again when it is not (it resumes)")
    if not sample:
        return
    ids = [stored_id(i) for i in sample]
    page, _ = yield from on(target, ask(ScrollPage(filters.has_ids(ids), len(ids), with_vectors=True)))
    theirs = {f.id: f for f in page}
    tol = 2e-3 if target.known().storage.float16 else 1e-5
    mine, _ = yield from on(source, ask(ScrollPage(filters.has_ids(ids), len(ids), with_vectors=True)))
    for f in mine:
        why = _differs(f, theirs.get(f.id), tol)
        if why:
            raise EngineError(f"copy of {source.name!r} failed verification: point {f.id} {why}")


def _differs(mine: Found, theirs: Found | None, tol: float) -> str | None:
    if theirs is None:
        return "is missing from the target"
    if mine.payload != theirs.payload:
        return "has another payload in the target"
    a, b = mine.vectors or {}, theirs.vectors or {}
    if set(a) != set(b):
        return f"has vectors {sorted(b)} in the target, {sorted(a)} in the source"
    for name, v in a.items():
        w = b[name]
        if isinstance(v, SparseVec):
            same = isinstance(w, SparseVec) and list(v.indices) == list(w.indices) \
                and np.allclose(v.values, w.values, atol=tol)
        else:
            same = np.shape(v) == np.shape(w) and np.allclose(v, w, atol=tol)
        if not same:
            return f"has another {name!r} vector in the target"
    return None
