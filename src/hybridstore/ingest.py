"""Ingest: records checked, cut into chunks, hashed (unchanged ones skipped; those whose text is
unchanged get their new payload without an embedding), embedded into points and written, the embedding of one chunk overlapping the write of the last; and delete.
Steps for `driver` (one code path for `add` and `aadd`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import islice
from typing import NamedTuple

import numpy as np

from . import collection, rules
from .collection import Collection
from .engine.requests import Delete, Found, SetPayloads, Write, scroll
from .errors import EngineError, InvalidInputError, StorageLockedError, WriteError
from .inference.pages import pooled
from .qdrant import filters, payload
from .qdrant.schema import PAGES, POOLED
from .records import Record
from .selection import Selection, deleted
from .steps import Ensure, Handle, Steps, Wait, ask_work, start

EMBED_CHUNK = 256  # records embedded and written per step: bounds memory (ColBERT vectors are large)
REQUEST_NUMBERS = 4_000_000  # vector numbers per engine write (a ColBERT document has ~100k)
Dense = Sequence[Sequence[float] | None]  # the caller's dense vectors, one per record (None: embed it)
Chunk = tuple[list[Record], Dense | None]  # records embedded and written together, their caller vectors


class Embed(NamedTuple):
    """Records to embed and write, with their caller vectors and hashes."""
    records: list[Record]
    dense: Dense | None
    hashes: list[dict[str, str]]


def add(col: Collection, records: Iterable[Record], dense: Dense | None,
        progress: Callable[[int], None] | None, skip_unchanged: bool) -> Steps[list[str]]:
    batches, size = _batches(_stamped(col, records), dense)
    stats = {"embedded": 0, "unchanged": 0, "payload_only": 0}
    ids: list[str] = []
    done: set[str | int] = set()
    pending: Handle | None = None
    if isinstance(records, Sequence):  # all of a list, before anything is written
        _check_images(col, records)
    try:
        for chunk, vecs in batches:
            _check_images(col, chunk)
            if not ids:  # the first chunk: create or check the collection
                yield Ensure(True, size)
                _unscoped(col, records if isinstance(records, Sequence) else chunk)
            yield from collection.current(col, size)  # as another writer may have left it
            _check_writes(col, dense)  # every vector of the collection gets filled
            yield from collection.sign(col)
            _unscoped(col, chunk)
            ids.extend(r.id for r in chunk)
            chunk, hashes = yield from ask_work(_hashed, col, chunk, vecs)
            stored: list[Found] = []
            if skip_unchanged:
                stored = yield from scroll(col.confine(filters.has_ids([col.pid(r.id) for r in chunk])), len(chunk))
            embed, relabel = _changed(col, chunk, vecs, hashes, stored, stats, done)
            if relabel:  # only what the vectors do not depend on changed: no embedding
                yield SetPayloads(relabel)
                done.update(p.id for p in relabel)
            points = yield from ask_work(_points, col, embed.records, embed.dense, embed.hashes)
            if pending is not None:
                yield Wait(pending)
            pending = yield from _write(col, points, done)
            if progress:
                progress(len(chunk))
        if pending is not None:
            yield Wait(pending)
    except (StorageLockedError, WriteError):
        raise
    except EngineError as e:
        raise _partial(col, records, ids, done, e) from e
    col.state.added(stats)
    yield from collection.after_writes(col, stats["embedded"])
    return ids


def delete(col: Collection, where: Selection) -> Steps[None]:
    there = yield from collection.exists(col)  # first: it tells whether ids are per tenant
    flt = deleted(col, where)
    if not there:
        return
    if where.ids is not None and col.spans_tenants:
        found = yield from scroll(flt, None)
        _owned(col, found)
    yield Delete(flt)


def _owned(col: Collection, found: list[Found]) -> None:
    """The unscoped index deletes by id only records of no tenant: whose record an id names
    is for the caller to say (two tenants may use one id), through the tenant's view."""
    owners: dict[str, list[str]] = {}
    key = col.state.tenant_key
    for f in found:
        record = col.layout.to_record(f.payload, f.id)
        if key in record.metadata:
            owners.setdefault(str(record.metadata[key]), []).append(record.id)
    if owners:
        views = "; ".join(f"index.tenant({t!r}).delete({sorted(set(i))!r})" for t, i in sorted(owners.items()))
        raise InvalidInputError(
            f"collection {col.name!r} keeps tenants apart (tenant_key={key!r}) and each tenant's "
            f"ids are its own: these ids name records of {len(owners)} tenant(s), and nothing was deleted. "
            f"Say whose: {views} (index.tenant(name).drop_tenant() deletes all of one tenant's)")


def _write(col: Collection, points: list[payload.Point], done: set[str | int]) -> Steps[Handle]:
    """Steps: the points written in the background, in requests of bounded size."""
    slices = requests(points, col.settings.upsert_batch)

    def after(i: int) -> None:
        a, b = slices[i]
        done.update(p.id for p in points[a:b])

    handle = yield from start([Write(points[a:b]) for a, b in slices], after)
    return handle


def _partial(col: Collection, records: Iterable[Record], ids: list[str], done: set[str | int],
             e: Exception) -> WriteError:
    """An engine failure part-way through an add, saying which records are stored."""
    known = isinstance(records, Sequence)
    every = [r.id for r in records] if known else ids
    written = [i for i in every if col.pid(i) in done]
    missing = [i for i in every if col.pid(i) not in done]
    rest = "" if known else " (and whatever the iterable had not yielded yet)"
    return WriteError(
        f"add() stopped after storing {len(written)} of {len(every)} records{rest}: {e}. "
        f"Not written: {_some(missing)}. Written: {_some(written)}. Ids are deterministic: "
        "add the same records again to finish (unchanged ones are skipped).", written, missing)


def _stamped(col: Collection, records: Iterable[Record]) -> Iterable[Record]:
    """In a tenant's view, each record's metadata names the tenant; naming another is refused."""
    if col.tenant is None or isinstance(records, (str, Record)):
        return records
    stamped = (_stamp(col, r) for r in records)
    return list(stamped) if isinstance(records, Sequence) else stamped


def _unscoped(col: Collection, records: Iterable[object]) -> None:
    """The unscoped index of a collection of tenants writes no record for a tenant: a
    tenant's ids are its own, so its records are written through its view."""
    key = col.state.tenant_key
    if not col.spans_tenants:
        return
    for r in records:
        if isinstance(r, Record) and isinstance(r.metadata, dict) and key in r.metadata:
            raise InvalidInputError(
                f"record {r.id!r}: metadata[{key!r}] names the tenant {r.metadata[key]!r}, "
                f"whose ids are its own: write it through the tenant's view, "
                f"index.tenant({r.metadata[key]!r}).add(...); nothing was written")


def _stamp(col: Collection, record: Record) -> Record:
    key, tenant = col.view()
    if not isinstance(record, Record) or not isinstance(record.metadata, dict):
        return record  # validate_records names the problem
    if record.metadata.get(key, tenant) != tenant:
        raise InvalidInputError(f"record {record.id!r}: metadata[{key!r}] names the tenant "
                                f"{record.metadata[key]!r}, but this view writes for {tenant!r}")
    return replace(record, metadata={**record.metadata, key: tenant})


def _hashed(col: Collection, chunk: list[Record], vecs: Dense | None) -> tuple[list[Record], list[dict[str, str]]]:
    """The chunk with its PDF pages rendered (once, for their hashes and then their vectors)
    and its content hashes: work, off an event loop."""
    chunk = payload.rendered(chunk)
    return chunk, payload.content_hashes(col.layout, col.models, chunk, vecs)


def _batches(records: Iterable[Record], dense: Dense | None) -> tuple[Iterator[Chunk], int | None]:
    """Chunks of (records, dense vectors) to embed and write, and the caller dense size."""
    if isinstance(records, (str, Record)):
        raise InvalidInputError("add() takes an iterable of Records, not a single item")
    if not isinstance(records, Sequence):
        if dense is not None:
            raise InvalidInputError("dense= needs the records as a list, one vector each")
        return _stream(iter(records)), None
    listed = list(records)
    payload.validate_records(listed)
    size = payload.check_dense(dense, len(listed), None) if dense is not None else None
    return ((listed[a:b], dense[a:b] if dense is not None else None)
            for a, b in _chunks(len(listed), EMBED_CHUNK)), size


def _stream(records: Iterator[Record]) -> Iterator[Chunk]:
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


def _check_writes(col: Collection, dense: Dense | None) -> None:
    """Before the first write: caller vectors fit, and every vector gets filled."""
    field, models = col.schema.by_kind("dense"), col.models
    if dense is not None and any(v is None for v in dense) and models.dense is None:
        raise InvalidInputError("some records have no dense vector and this index has no "
                                "dense model to embed them; pass every vector or Models(dense=...)")
    if field is not None and dense is not None:
        payload.check_dense(dense, len(dense), field.size)
    elif field is not None and models.dense is None:
        raise InvalidInputError("the collection has a dense vector but this index has no dense "
                                "model; pass dense= vectors or configure Models(dense=...)")
    elif field is None and dense is not None:
        raise InvalidInputError(f"collection {col.name!r} has no dense vector for dense=")
    produced = {col.names[k] for k in models.kinds()} | ({col.names["dense"]} if dense is not None else set())
    rules.unfilled(col.name, col.schema, produced)


def _check_images(col: Collection, records: Sequence[Record]) -> None:
    """Images need an image (or page) model to embed them."""
    pictured = next((r for r in records if r.image is not None), None)
    if pictured is not None and col.models.image is None and col.models.late_interaction_multimodal is None:
        raise InvalidInputError(f"record {pictured.id!r} has an image, but this index has no image "
                                "model to embed it; configure Models(image=...) or "
                                "Models(late_interaction_multimodal=...) or leave the image out")


def _changed(col: Collection, records: list[Record], dense: Dense | None, hashes: list[dict[str, str]],
             stored: list[Found], stats: dict[str, int], done: set[str | int]) -> tuple[Embed, list[payload.Point]]:
    """Records to embed (and write), and the new payloads of those whose vectors stay as
    stored; records stored as they are now are left out."""
    # While some points lack a vector (known from the last count), a stored hash cannot tell
    # whether this point is one of them: embed it again rather than skip it.
    was = {} if any(n > 0 for n in col.state.lacking.values()) else {f.id: f.payload for f in stored}
    same, vectors = col.layout.hash_key, col.layout.vector_hash_key
    keep: list[int] = []
    relabel: list[payload.Point] = []
    unchanged = 0
    for i, r in enumerate(records):
        old, pid = was.get(col.pid(r.id)) or {}, col.pid(r.id)
        if old.get(same) is not None and old.get(same) == hashes[i][same]:
            unchanged += 1
            done.add(pid)  # already stored as it is
        elif old.get(vectors) is not None and old.get(vectors) == hashes[i][vectors]:
            relabel.append(payload.Point(pid, {}, {**col.layout.to_payload(r), **hashes[i]}))
        else:
            keep.append(i)
    stats["embedded"] += len(keep)
    stats["unchanged"] += unchanged
    stats["payload_only"] += len(relabel)
    embed = Embed([records[i] for i in keep], [dense[i] for i in keep] if dense is not None else None,
                  [hashes[i] for i in keep])
    return embed, relabel


def _points(col: Collection, records: list[Record], dense: Dense | None,
            hashes: list[dict[str, str]] | None = None) -> list[payload.Point]:
    """Embed with every model; caller dense vectors win, None entries get the model's. A
    record's image goes to the image and page models; a record with an image and no text gets
    no text vectors."""
    if not records:
        return []
    models = col.models
    kinds = [k for k in models.text_kinds() if not (k == "dense" and dense is not None)]
    texts = [i for i, r in enumerate(records) if r.text.strip()]
    vectors = {k: _spread(vs, texts, len(records))
               for k, vs in models.embed_documents([records[i].text for i in texts], kinds).items()}
    if dense is not None:
        given: list[object] = list(dense)
        missing = [i for i, v in enumerate(given) if v is None and i in set(texts)]
        if missing and models.dense is not None:  # (else refused by _check_writes)
            own = models.dense.embed_documents([records[i].text for i in missing])
            for i, v in zip(missing, own, strict=True):
                given[i] = v
        vectors["dense"] = given
    images = [i for i, r in enumerate(records) if r.image is not None]
    if models.image is not None:
        vectors["image"] = _spread(models.image.embed_images([records[i].image for i in images]), images, len(records))
    if models.late_interaction_multimodal is not None:
        pages = models.late_interaction_multimodal.embed_images([records[i].image for i in images])
        vectors[PAGES] = _spread(pages, images, len(records))
        vectors[POOLED] = _spread([pooled(p) for p in pages], images, len(records))
    return payload.to_points(records, vectors, col.names, col.layout, hashes, col.pid)


def _spread(vectors: Sequence[object], positions: list[int], n: int) -> list[object]:
    """Vectors made for some positions, as a list of `n` with None elsewhere."""
    out: list[object] = [None] * n
    for i, v in zip(positions, vectors, strict=True):
        out[i] = v
    return out


def requests(points: Sequence[payload.Point], size: int) -> list[tuple[int, int]]:
    """Slices of at most `size` points and about REQUEST_NUMBERS vector numbers each (one
    point at least): an engine holds a whole request, and ColBERT points are large."""
    slices: list[tuple[int, int]] = []
    first, numbers = 0, 0
    for i, point in enumerate(points):
        n = sum(len(v.indices) if isinstance(v, payload.SparseVec) else
                v.size if isinstance(v, np.ndarray) else len(v) for v in point.vectors.values())
        if i > first and (i - first >= size or numbers + n > REQUEST_NUMBERS):
            slices.append((first, i))
            first, numbers = i, 0
        numbers += n
    return slices + [(first, len(points))] if first < len(points) else slices


def _some(ids: list[str], shown: int = 5) -> str:
    if not ids:
        return "none"
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return f"{len(ids)} ({', '.join(map(repr, ids[:shown]))}{more})"


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(i + size, n)) for i in range(0, n, size)]
