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
from typing import TYPE_CHECKING, Any, Callable, Generator, NamedTuple

import numpy as np

from . import collection
from .driver import Steps
from .engine import held_engine
from .engine.requests import PAGE, Create, Drop, Found, GetSchema, Request, ScrollPage, Write
from .errors import CollectionNotFoundError, ConfigurationError, EngineError, HybridStoreError
from .qdrant import filters
from .qdrant.payload import Point, SparseVec
from .qdrant.schema import differences
from .qdrant.storage import Storage

if TYPE_CHECKING:
    from .index import HybridIndex


def copy(source: "HybridIndex", target: "HybridIndex", batch: int = PAGE, verify: int = 32,
         resume: bool = True, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    return run(_copy(source, target, batch, verify, resume, progress))


async def acopy(source: "HybridIndex", target: "HybridIndex", batch: int = PAGE, verify: int = 32,
                resume: bool = True, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    return await arun(_copy(source, target, batch, verify, resume, progress))


def run(gen: "Step") -> Any:
    """Drive steps that span two indexes: each is run on its index, its answer (or error)
    sent back in."""
    answer, error = None, None
    while not (step := _next(gen, answer, error)).done:
        try:
            answer, error = step.index._drive(step.steps), None
        except HybridStoreError as e:
            answer, error = None, e
    return step.value


async def arun(gen: "Step") -> Any:
    answer, error = None, None
    while not (step := _next(gen, answer, error)).done:
        try:
            answer, error = await step.index._adrive(step.steps), None
        except HybridStoreError as e:
            answer, error = None, e
    return step.value


class _Next(NamedTuple):
    done: bool
    index: Any = None
    steps: Any = None
    value: Any = None


def _next(gen: "Step", answer: Any, error: BaseException | None) -> _Next:
    try:
        index, steps = gen.throw(error) if error is not None else gen.send(answer)
    except StopIteration as stop:
        return _Next(True, value=stop.value)
    return _Next(False, index, steps)


Step = Generator[tuple["HybridIndex", Steps], Any, Any]  # (index, its steps); their answer sent back


def _copy(source: "HybridIndex", target: "HybridIndex", batch: int, verify: int, resume: bool,
          progress: Callable[[int], None] | None) -> Step:
    _share_folder(target)
    _check(source, target, batch, verify)
    schema = yield from _require(source)
    found = yield target, _one(GetSchema())
    if found is None:
        st = target._col.settings
        yield target, _one(Create(schema, storage=st.storage or Storage(), shards=st.shards, replicas=st.replicas))
        try:
            yield target, collection.reopen(target._col, False)  # its models must accept what it received
        except HybridStoreError:
            yield target, _one(Drop())  # made by this call and still empty: nothing of the user's is lost
            raise
    elif differences(schema, found) or dict(schema.signature or {}) != dict(found.signature or {}):
        raise ConfigurationError(
            f"target collection {target.collection!r} exists and differs from {source.collection!r} "
            f"({'; '.join(differences(schema, found)) or 'another model signature'}): drop it or copy "
            "into another collection")
    else:
        yield target, collection.reopen(target._col, False)  # its models and storage, checked first
    copied = skipped = seen = 0
    sample: list[str] = []
    pick = random.Random(0)
    offset = None
    while True:
        page, offset = yield source, _one(ScrollPage(None, batch, offset, with_vectors=True))
        ids = [_pid(f.id) for f in page]
        if page and resume and found is not None and (yield from _held(target, ids)) == {f.id: f.payload for f in page}:
            skipped += len(page)
        elif page:
            yield target, _one(Write([Point(i, f.vectors or {}, f.payload) for i, f in zip(ids, page)]))
            copied += len(page)
        for f in page:  # a reservoir: an even sample of every point, in bounded memory
            seen += 1
            if len(sample) < verify:
                sample.append(f.id)
            elif (j := pick.randrange(seen)) < verify:
                sample[j] = f.id
        if progress is not None and page:
            progress(copied + skipped)
        if offset is None:
            break
    yield target, collection.reopen(target._col, False)  # recount what it holds (points lacking a vector)
    yield target, collection.optimize(target._col)  # build the graphs (and the storage's layout) now
    yield from _verify(source, target, sample, seen)
    return {"points": seen, "copied": copied, "skipped": skipped, "verified": len(sample)}


def require_source(source: "HybridIndex") -> Any:
    """The source collection's schema; refused when there is none to copy."""
    return run(_require(source))


def _require(source: "HybridIndex") -> Step:
    schema = yield source, _one(GetSchema())
    if schema is None:
        raise CollectionNotFoundError(f"collection {source.collection!r} does not exist: nothing to copy")
    return schema


def _check(source: "HybridIndex", target: "HybridIndex", batch: int, verify: int) -> None:
    if source._col.tenant is not None or target._col.tenant is not None:
        raise ConfigurationError("copy_to copies whole collections: call it on the index, not a tenant view")
    if source._col.settings.tenant_shards or target._col.settings.tenant_shards:
        raise ConfigurationError("copy_to does not copy collections sharded by tenant (tenant_shards=); "
                                 "copy each tenant's records through its view with add()")
    same_server = source._col.settings.url is not None and source._col.settings.url == target._col.settings.url
    if (source.engine is target.engine or same_server) and source.collection == target.collection:
        raise ConfigurationError(f"source and target are the same collection {source.collection!r}")
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 10_000:
        raise ConfigurationError(f"batch={batch!r}: use 1 to 10000 points per page")
    if not isinstance(verify, int) or isinstance(verify, bool) or not 0 <= verify <= 1000:
        raise ConfigurationError(f"verify={verify!r}: compare 0 (counts only) to 1000 points")


def _share_folder(target: "HybridIndex") -> None:
    """A target on a folder an engine of this process holds (another collection of the
    source's folder) writes through that engine, as the command line's copy does."""
    folder = target.engine.folder
    if folder is None or folder.try_acquire():
        return
    engine = held_engine(target.settings)
    if engine is not None:
        target.engine.close()
        target.engine = engine


def _held(target: "HybridIndex", ids: list) -> Step:
    """The target's payloads of these points: a page is there already when they are the
    source's (hybridstore's payloads hold hashes of the text and of what made the vectors)."""
    page, _ = yield target, _one(ScrollPage(filters.has_ids(ids), len(ids)))
    return {f.id: f.payload for f in page}


def _one(request: Request) -> Steps:
    return (yield request)


def _pid(found_id: str) -> Any:
    return int(found_id) if found_id.isdigit() else found_id  # Qdrant ids: unsigned or UUID


def _verify(source: "HybridIndex", target: "HybridIndex", sample: list[str], seen: int) -> Step:
    have = yield target, collection.count(target._col, None)
    want = yield source, collection.count(source._col, None)
    if have > want:
        raise EngineError(f"the target {target.collection!r} holds {have} points, the source "
                          f"{source.collection!r} {want}: it has points the source lacks; drop it or "
                          "copy into another collection")
    if have != want or want != seen:
        raise EngineError(f"copy of {source.collection!r} incomplete: the source holds {want} points "
                          f"({seen} read while copying), the target {have}; if the source was being "
                          "written to, run it again when it is not (it resumes)")
    if not sample:
        return
    ids = [_pid(i) for i in sample]
    theirs, _ = yield target, _one(ScrollPage(filters.has_ids(ids), len(ids), with_vectors=True))
    theirs = {f.id: f for f in theirs}
    tol = 2e-3 if target._col.storage.float16 else 1e-5
    mine, _ = yield source, _one(ScrollPage(filters.has_ids(ids), len(ids), with_vectors=True))
    for f in mine:
        why = _differs(f, theirs.get(f.id), tol)
        if why:
            raise EngineError(f"copy of {source.collection!r} failed verification: point {f.id} {why}")


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
