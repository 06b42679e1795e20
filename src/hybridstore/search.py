"""Search: checks, query vectors, plans (`qdrant.query`), grouping, batches; and the other
reads (get). Steps for `driver` (one code path for each method and its async twin)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from . import collection, explain
from .boosting import ask_boosted
from .collection import Collection
from .engine.requests import Found, Query, QueryBatch, scroll
from .errors import (
    CollectionNotFoundError,
    EmptyQueryWarning,
    InvalidInputError,
    SchemaMismatchError,
)
from .image_sources import check_image
from .inference.pages import pooled
from .qdrant import boost, groups, payload
from .qdrant import query as qplan
from .qdrant.filter_tree import Filter
from .qdrant.schema import PAGES, POOLED
from .records import Hit, Record
from .selection import Selection, selector
from .steps import Ensure, Steps, ask_work

OPTIONS = tuple(qplan.SearchRequest.__dataclass_fields__)
Vectors = dict[str, Any]  # a query's plain vector per kind (`payload.plain_vector`)


@dataclass(frozen=True)
class Search:
    """One `search` call, as the facade received it."""

    text: str
    k: int = 10
    where: Selection = field(default_factory=Selection)
    dense_vector: Sequence[float] | None = None
    options: dict[str, Any] = field(default_factory=dict)  # the caller's search options, checked
    missing_ok: bool = False  # no hits, instead of CollectionNotFoundError, while nothing is written
    native_groups: bool = True  # the engine groups (`Engine.groups`)
    explain: bool = False  # each hit with its `explain.Explanation` (`hybridstore.explain`)


@dataclass(frozen=True)
class Planned:
    """A search ready to ask: its checked request, filter, query vectors and plan."""

    req: qplan.SearchRequest
    flt: Filter | None
    vectors: Vectors
    plan: qplan.QueryPlan  # ungrouped (a grouped search groups it)


def planned(col: Collection, call: Search,
            refuse: Callable[[qplan.SearchRequest], None] | None = None) -> Steps[Planned | None]:
    """Steps: `call` checked (and `refuse`d, before any request), the collection ensured and
    complete, the query embedded and planned; None where there is no collection and
    `call.missing_ok`. `search` and `why_not` both start here."""
    req = check(col, call.text, call.k, call.dense_vector, call.options)
    if refuse is not None:
        refuse(req)
    try:
        yield Ensure(False)
    except CollectionNotFoundError:
        if call.missing_ok:  # nothing written yet: no hits
            return None
        raise
    flt = selector(col, call.where)  # after Ensure: it tells whether ids are per tenant
    yield from collection.complete(col, req)
    vectors = yield from ask_work(query_vectors, col, [call.text], req, call.dense_vector)
    return Planned(req, flt, vectors[0], _plan(col, replace(req, group_by=None), vectors[0], flt))


def search(col: Collection, call: Search) -> Steps[list[Hit]]:
    ready = yield from planned(col, call, explain.check if call.explain else None)
    if ready is None:
        return []
    req, flt, plan = ready.req, ready.flt, ready.plan
    if req.group_by:
        # explained, the core groups on every engine: a server's grouping re-runs its branches,
        # deeper and filtered, round by round, which no stage-by-stage account can follow
        native = call.native_groups and not call.explain
        found, grouped = yield from _grouped(col, req, ready.vectors, flt, native)
        if call.explain:
            found = yield from explain.attach_grouped(col, call.text, grouped, found, req.group_by)
    else:
        points = yield from ask_boosted(col, Query(plan), req.boost, flt)
        found = hits(col, plan, points)
        if call.explain:
            found = yield from explain.attach(col, call.text, plan, points, found)
    yield from collection.verify(col, req)  # nothing left out since the last count
    return found


def search_batch(col: Collection, texts: Sequence[str], k: int, filter: object,
                 options: dict[str, Any], explain_hits: bool = False) -> Steps[list[list[Hit]]]:
    if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts:
        raise InvalidInputError("search_batch() takes a non-empty list of query strings")
    if options.get("group_by") or options.get("image") is not None or options.get("image_vector") is not None:
        raise InvalidInputError("search_batch() takes text queries and does not group; call "
                                "search(group_by=...) or search(image=...)")
    reqs = [check(col, t, k, None, options) for t in texts]  # every text checked
    req = reqs[0]
    if explain_hits:
        explain.check(req)
    flt = selector(col, Selection(filter=filter))
    yield Ensure(False)
    yield from collection.complete(col, req)
    vectors = yield from ask_work(query_vectors, col, texts, req, None)
    plans = [_plan(col, req, v, flt) for v in vectors]
    found = yield from ask_boosted(col, QueryBatch(plans), req.boost, flt)
    out = [hits(col, p, f) for p, f in zip(plans, found, strict=True)]
    if explain_hits:  # each query's explanations, asked after the batch
        for i, (text, plan) in enumerate(zip(texts, plans, strict=True)):
            out[i] = yield from explain.attach(col, text, plan, found[i], out[i])
    yield from collection.verify(col, req)
    return out


def get(col: Collection, where: Selection, limit: int | None) -> Steps[list[Record]]:
    there = yield from collection.exists(col)  # first: it tells whether ids are per tenant
    flt = selector(col, where)
    ids = where.ids
    if ids is not None and not ids or not there:
        return []
    found = yield from scroll(flt, limit)
    records = [col.layout.to_record(f.payload, f.id) for f in found]
    if ids is None:
        return records
    if col.spans_tenants:  # every tenant's record of each id, in the order of the ids
        return [r for i in dict.fromkeys(ids) for r in records if payload.point_id(r.id) == payload.point_id(i)]
    by_point = {col.pid(r.id): r for r in records}
    return [by_point[p] for p in dict.fromkeys(col.pid(i) for i in ids) if p in by_point]


def check(col: Collection, text: str, k: int, dense_vector: Sequence[float] | None,
          options: dict[str, Any]) -> qplan.SearchRequest:
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise InvalidInputError(f"unknown search option(s) {sorted(unknown)}; known: {', '.join(OPTIONS[1:])}")
    image = options.get("image") if options.get("image") is not None else options.get("image_vector")
    if not isinstance(text, str) or (not text.strip() and dense_vector is None and image is None):
        raise InvalidInputError(f"query must be a non-empty string, got {text!r}")
    if not payload.is_utf8(text):
        raise InvalidInputError("query text is not valid Unicode (a lone surrogate); fix its encoding")
    available = set(col.models.kinds()) | ({"dense"} if dense_vector is not None else set()) \
        | ({"image"} if options.get("image_vector") is not None else set())
    if options.get("mode") is None and image is None and col.models.image is not None and col.models.image.text is None:
        available.discard("image")  # an image model without a text tower: text queries search text
    req = qplan.resolve(qplan.SearchRequest(k=k, **options), available)
    if req.boost is not None:  # read once: every query of a batch decays from the same now
        req = replace(req, boost=boost.read(req.boost, col.layout.metadata_prefix))
    if image is not None:
        if req.image is not None:
            check_image("the query", image)
        else:
            stored = col.state.schema.by_kind("image") if col.state.schema is not None else None
            payload.check_dense([image], 1, stored.size if stored else None)
        if not text.strip() and set(qplan.query_kinds(req)) - {"image"}:
            raise InvalidInputError(f"mode {req.mode!r} also searches text vectors, and the query "
                                    "text is empty: give a text, or use mode='image'")
    if dense_vector is not None:
        stored = col.state.schema.by_kind("dense") if col.state.schema is not None else None
        payload.check_dense([dense_vector], 1, stored.size if stored else None)
    return req


def query_vectors(col: Collection, texts: Sequence[str], req: qplan.SearchRequest,
                  dense_vector: Sequence[float] | None) -> list[Vectors]:
    """Plain query vectors per text, one embedding batch per model."""
    kinds = qplan.query_kinds(req)
    missing = [k for k in kinds if col.schema.by_name(col.names[k]) is None]
    if missing:
        raise SchemaMismatchError(f"collection {col.name!r} has no {', '.join(missing)} vector for this query")
    own = [k for k in kinds if not (k == "dense" and dense_vector is not None) and k != POOLED
           and not (k == "image" and (req.image is not None or req.image_vector is not None))]
    by_kind = col.models.embed_queries(texts, own)
    if PAGES in by_kind:  # the pooled prefetch's query: the tokens' mean (see `inference.pages`)
        by_kind[POOLED] = [pooled(v) for v in by_kind[PAGES]]
    if req.image is not None:  # image to image: through the image tower
        by_kind["image"] = col.image_model().embed_images([req.image]) * len(texts)
    elif req.image_vector is not None:
        by_kind["image"] = [list(req.image_vector)] * len(texts)
    if dense_vector is not None:
        by_kind["dense"] = [list(dense_vector)] * len(texts)
    vectors = [{k: payload.plain_vector(k, vs[i]) for k, vs in by_kind.items()} for i in range(len(texts))]
    _no_keywords(col, req, texts, vectors)
    return vectors


def _no_keywords(col: Collection, req: qplan.SearchRequest, texts: Sequence[str],
                 vectors: list[Vectors]) -> None:
    """A query of stop-words alone has an empty sparse vector: it matches nothing by keyword,
    which is said rather than left as a silently empty (or dense-only) result."""
    empty = [t for t, v in zip(texts, vectors) if "sparse" in v and not v["sparse"].indices]
    sparse = col.models.sparse
    if not empty or sparse is None:
        return
    alone = "finds nothing" if req.mode == "sparse" else "adds nothing: the other vectors rank alone"
    warnings.warn(EmptyQueryWarning(
        f"{len(empty)} quer{'y' if len(empty) == 1 else 'ies'} (e.g. {empty[0][:60]!r}) gave sparse model "
        f"{sparse.spec.name!r} no term (only stop-words or punctuation): its keyword search "
        f"{alone}. Add content words, or use mode='dense'"), stacklevel=2)


def _plan(col: Collection, req: qplan.SearchRequest, vectors: Vectors, flt: Filter | None) -> qplan.QueryPlan:
    """A hit reads text, metadata and ids: the two hashes (half the payload a SciFact hit
    would carry back) stay in the engine."""
    return qplan.build_plan(req, vectors, col.names, flt, col.storage,
                            omit=(col.layout.hash_key, col.layout.vector_hash_key))


def hits(col: Collection, plan: qplan.QueryPlan, found: list[Found]) -> list[Hit]:
    # `f` for the point id: read only when the payload lacks one (see Found)
    return [Hit(col.layout.to_record(f.payload, f), f.score, qplan.relevance(plan, f.score))
            for f in found]


def _grouped(col: Collection, req: qplan.SearchRequest, vectors: Vectors, flt: Filter | None,
             native: bool) -> Steps[tuple[list[Hit], qplan.QueryPlan]]:
    """At most `group_size` hits per group, and the ungrouped plan they came from: native where
    the engine groups, else oversample and group here (doubling the depth of every stage until
    `k` groups are complete)."""
    def plan(limit: int) -> qplan.QueryPlan:
        return _plan(col, replace(req, k=limit, group_by=None), vectors, flt)

    group_by = req.group_by
    assert group_by is not None, "a grouped search names its key"
    if native:
        first = plan(req.k)
        path = groups.key_path(group_by, col.layout.metadata_prefix)
        found = yield from ask_boosted(col, Query(first, path, req.group_size), req.boost, flt)
        return hits(col, first, found), first
    limit = req.k * req.group_size * 2
    while True:
        deeper = plan(limit)
        found = yield from ask_boosted(col, Query(deeper), req.boost, flt)
        picked, enough = groups.pick(hits(col, deeper, found), group_by, req.k, req.group_size)
        if enough or len(found) < limit:
            return picked, deeper
        limit *= 2
