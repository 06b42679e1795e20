"""Search: checks, query vectors, plans (`qdrant.query`), grouping, batches; and the other
reads (get). Steps for `driver` (one code path for each method and its async twin)."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, Sequence

from . import collection
from .collection import Collection
from .driver import Ensure, Steps, Work
from .engine.requests import Found, Query, QueryBatch, scroll
from .errors import CollectionNotFoundError, EmptyQueryWarning, InvalidInputError, SchemaMismatchError
from .image_sources import check_image
from .ingest import selector
from .qdrant import groups, payload
from .qdrant import query as qplan
from .records import Hit

OPTIONS = tuple(qplan.SearchRequest.__dataclass_fields__)


def search(col: Collection, text: Any, k: Any, filter: Any, ids: Any, doc_id: Any,
           dense_vector: Any, options: dict, native_groups: bool, missing_ok: bool = False) -> Steps:
    req = check(col, text, k, dense_vector, options)
    try:
        yield Ensure(False)
    except CollectionNotFoundError:
        if missing_ok:  # nothing written yet: no hits
            return []
        raise
    flt = selector(col, ids, filter, doc_id)  # after Ensure: it tells whether ids are per tenant
    yield from collection.complete(col, req)
    vectors = (yield Work(query_vectors, col, [text], req, dense_vector))[0]
    if req.group_by:
        found = yield from _grouped(col, req, vectors, flt, native_groups)
    else:
        plan = _plan(col, req, vectors, flt)
        found = hits(col, plan, (yield Query(plan)))
    yield from collection.verify(col, req)  # nothing left out since the last count
    return found


def search_batch(col: Collection, texts: Any, k: Any, filter: Any, options: dict) -> Steps:
    if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts:
        raise InvalidInputError("search_batch() takes a non-empty list of query strings")
    if options.get("group_by") or options.get("image") is not None or options.get("image_vector") is not None:
        raise InvalidInputError("search_batch() takes text queries and does not group; call "
                                "search(group_by=...) or search(image=...)")
    req = [check(col, t, k, None, options) for t in texts][0]
    flt = selector(col, None, filter, None)
    yield Ensure(False)
    yield from collection.complete(col, req)
    plans = [_plan(col, req, v, flt)
             for v in (yield Work(query_vectors, col, texts, req, None))]
    found = yield QueryBatch(plans)
    yield from collection.verify(col, req)
    return [hits(col, p, f) for p, f in zip(plans, found, strict=True)]


def get(col: Collection, ids: Any, filter: Any, doc_id: Any, limit: int | None) -> Steps:
    there = yield from collection.exists(col)  # first: it tells whether ids are per tenant
    flt = selector(col, ids, filter, doc_id)
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


def check(col: Collection, text: Any, k: Any, dense_vector: Any, options: dict) -> qplan.SearchRequest:
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
    if image is not None:
        if req.image is not None:
            check_image("the query", image)
        else:
            field = col.schema.by_kind("image") if col.schema is not None else None
            payload.check_dense([image], 1, field.size if field else None)
        if not text.strip() and set(qplan.query_kinds(req)) - {"image"}:
            raise InvalidInputError(f"mode {req.mode!r} also searches text vectors, and the query "
                                    "text is empty: give a text, or use mode='image'")
    if dense_vector is not None:
        field = col.schema.by_kind("dense") if col.schema is not None else None
        payload.check_dense([dense_vector], 1, field.size if field else None)
    return req


def query_vectors(col: Collection, texts: Sequence[str], req: qplan.SearchRequest,
                  dense_vector: Any) -> list[dict[str, Any]]:
    """Plain query vectors per text, one embedding batch per model."""
    kinds = qplan.query_kinds(req)
    missing = [k for k in kinds if col.schema.by_name(col.names[k]) is None]
    if missing:
        raise SchemaMismatchError(f"collection {col.name!r} has no {', '.join(missing)} vector for this query")
    own = [k for k in kinds if not (k == "dense" and dense_vector is not None)
           and not (k == "image" and (req.image is not None or req.image_vector is not None))]
    by_kind = col.models.embed_queries(texts, own)
    if req.image is not None:  # image to image: through the image tower
        by_kind["image"] = col.models.image.embed_images([req.image]) * len(texts)
    elif req.image_vector is not None:
        by_kind["image"] = [list(req.image_vector)] * len(texts)
    if dense_vector is not None:
        by_kind["dense"] = [list(dense_vector)] * len(texts)
    vectors = [{k: payload.plain_vector(k, vs[i]) for k, vs in by_kind.items()} for i in range(len(texts))]
    _no_keywords(col, req, texts, vectors)
    return vectors


def _no_keywords(col: Collection, req: qplan.SearchRequest, texts: Sequence[str],
                 vectors: list[dict]) -> None:
    """A query of stop-words alone has an empty sparse vector: it matches nothing by keyword,
    which is said rather than left as a silently empty (or dense-only) result."""
    empty = [t for t, v in zip(texts, vectors) if "sparse" in v and not v["sparse"].indices]
    if not empty:
        return
    alone = "finds nothing" if req.mode == "sparse" else "adds nothing: the other vectors rank alone"
    warnings.warn(EmptyQueryWarning(
        f"{len(empty)} quer{'y' if len(empty) == 1 else 'ies'} (e.g. {empty[0][:60]!r}) gave sparse model "
        f"{col.models.sparse.spec.name!r} no term (only stop-words or punctuation): its keyword search "
        f"{alone}. Add content words, or use mode='dense'"), stacklevel=2)


def _plan(col: Collection, req: qplan.SearchRequest, vectors: dict, flt: Any) -> qplan.QueryPlan:
    """A hit reads text, metadata and ids: the two hashes (half the payload a SciFact hit
    would carry back) stay in the engine."""
    return qplan.build_plan(req, vectors, col.names, flt, col.storage,
                            omit=(col.layout.hash_key, col.layout.vector_hash_key))


def hits(col: Collection, plan: qplan.QueryPlan, found: list[Found]) -> list[Hit]:
    # `f` for the point id: read only when the payload lacks one (see Found)
    return [Hit(col.layout.to_record(f.payload, f), f.score, qplan.relevance(plan, f.score))
            for f in found]


def _grouped(col: Collection, req: qplan.SearchRequest, vectors: dict, flt: Any,
             native: bool) -> Steps:
    """At most `group_size` hits per group: native where the engine groups, else oversample
    and group here (doubling the depth until `k` groups are complete)."""
    def plan(limit: int) -> qplan.QueryPlan:
        return _plan(col, replace(req, k=limit, group_by=None), vectors, flt)

    if native:
        first = plan(req.k)
        path = groups.key_path(req.group_by, col.layout.metadata_prefix)
        return hits(col, first, (yield Query(first, path, req.group_size)))
    limit = req.k * req.group_size * 2
    while True:
        deeper = plan(limit)
        found = yield Query(deeper)
        picked, enough = groups.pick(hits(col, deeper, found), req.group_by, req.k, req.group_size)
        if enough or len(found) < limit:
            return picked
        limit *= 2
