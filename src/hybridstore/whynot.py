"""`index.why_not(query, id, **search options)`: where one record stands for one query, at each
stage of the search's plan, and the first reason it is not in the top k."""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import collection, explain, search, selection
from .engine.requests import Count, Found, Query, ask, scroll
from .errors import InvalidInputError
from .explain_boost import BoostShare
from .qdrant import filters
from .qdrant import query as qplan
from .qdrant.filter_tree import Condition, Filter, HasId
from .steps import Steps

DEEPEST = 10_000  # how deep a branch's ranking is read for a record's rank


@dataclass(frozen=True)
class WhyNot:
    id: str
    rank: int | None  # 1-based in the top k; None: not there
    reason: str | None  # the first reason it is not in the top k (None: it is)
    branch_ranks: tuple[int | None, ...] = ()  # its rank in each branch's whole ranking (None: no
                                               # score there, or deeper than DEEPEST)
    explanation: explain.Explanation | None = None  # its stages, as a hit's, ranked among every candidate of
                                             # the last stage (rank 0: not one); None: in the top k,
                                             # filtered out, or not stored


def why_not(col: collection.Collection, call: search.Search, record_id: str) -> Steps[WhyNot]:
    ready = yield from search.planned(col, replace(call, missing_ok=False), refuse)
    assert ready is not None, "without missing_ok a missing collection raises"
    req, flt, plan = ready.req, ready.flt, ready.plan
    points = yield from ask(Query(plan))
    yield from collection.verify(col, req)  # as a search: no point left out lacking a vector
    pid = yield from _point_of(col, record_id)
    if pid is None:
        return WhyNot(record_id, None, f"no record has id {record_id!r}")
    ranked = [f.id for f in points]
    if pid in ranked:
        rank = ranked.index(pid) + 1
        return WhyNot(record_id, rank, None)
    if flt is not None:
        failing = yield from _failing(flt, pid)
        if failing is not None:
            return WhyNot(record_id, None, failing)
    # its stages, as if it were the hit after the k-th: the plan with a limit deep enough
    deep = yield from ask(Query(explain.deepened(plan)))
    at = next((r for r, f in enumerate(deep, 1) if f.id == pid), 0)
    mine = deep[at - 1:at] if at else []
    names = explain.term_names_of(col, call.text, plan)
    found = yield from explain.explanations(plan, mine or [_stand_in(pid)], names, at, checked=False)
    ex = found[0]
    ranks = yield from _branch_ranks(plan, ex, pid)
    return WhyNot(record_id, None, _reason(plan, ex, points, mine, ranks), ranks, ex)


def _point_of(col: collection.Collection, record_id: str) -> Steps[str | None]:
    """The point of record `record_id` (None: not stored). On the unscoped index of a
    collection of tenants it is found as `get` finds it, by the id each point stores; an id
    that several tenants use names no one record, and the caller says whose."""
    if not col.spans_tenants:
        pid = col.pid(record_id)
        stored = yield from ask(Count(col.confine(Filter(must=(HasId((pid,)),)))))
        return pid if stored else None
    found = yield from scroll(selection.selector(col, selection.Selection(ids=[record_id])), None)
    if len(found) > 1:
        key = col.state.tenant_key
        assert key is not None, "spans_tenants: the collection has a tenant key"
        owners = sorted({str(col.layout.to_record(f.payload, f.id).metadata.get(key)) for f in found})
        raise InvalidInputError(
            f"collection {col.name!r} keeps tenants apart (tenant_key={key!r}) and each tenant's ids are "
            f"its own: {record_id!r} names records of tenants {', '.join(map(repr, owners))}. Say whose: "
            f"index.tenant(name).why_not(query, {record_id!r})")
    return str(found[0].id) if found else None


def refuse(req: qplan.SearchRequest) -> None:
    """What why_not does not cover: where a record stands is a rank, and a grouped or MMR
    search's results are picked, not ranked."""
    if req.group_by is not None or req.mmr is not None:
        raise InvalidInputError("why_not explains ranked searches; it does not cover group_by= or mmr=: "
                                "drop them (search(..., explain=True) explains a grouped or MMR search's hits)")


def _stand_in(pid: str) -> Found:
    return Found(pid, {}, 0.0)


def _branch_ranks(plan: qplan.QueryPlan, ex: explain.Explanation, pid: str) -> Steps[tuple[int | None, ...]]:
    """Where the record ranks in each branch, past the branch's limit too: the points scoring
    at least its score, asked of the branch (up to DEEPEST)."""
    ranks: list[int | None] = []
    for stage, b in zip(explain.stages(plan).branches, ex.branches, strict=True):
        if b.rank is not None or b.score is None:
            ranks.append(b.rank)
            continue
        floor = b.score - 1e-6 * (1 + abs(b.score))  # its own score may round below itself (local mode)
        above = yield from ask(Query(qplan.QueryPlan(replace(stage, limit=DEEPEST), DEEPEST, plan.filter,
                                                     floor, plan.omit)))
        ranks.append(next((r for r, f in enumerate(above, 1) if f.id == pid), None))
    return tuple(ranks)


def _failing(flt: Filter, pid: str) -> Steps[str | None]:
    """The filter's first condition the record fails, named; None: the filter keeps it."""
    only = Filter(must=(HasId((pid,)),))
    kept = yield from ask(Count(filters.and_filters(flt, only)))
    if kept:
        return None
    for cond in _conditions(flt):
        alone = yield from ask(Count(Filter(must=(cond, only))))
        if not alone:
            return f"filtered out: it fails {cond!r}"
    return "filtered out: the filter excludes it"


def _conditions(flt: Filter) -> list[Condition]:
    """The conditions a record must meet each, through nested ANDs (the user's filter, the
    tenant's, ids, doc_id); a filter with should / must_not counts as one condition."""
    out: list[Condition] = []
    for cond in flt.must:
        if isinstance(cond, Filter) and not cond.should and not cond.must_not and cond.min_should is None:
            out.extend(_conditions(cond))
        else:
            out.append(cond)
    return out


def _reason(plan: qplan.QueryPlan, ex: explain.Explanation, top: list[Found], mine: list[Found],
            ranks: tuple[int | None, ...]) -> str:
    st = explain.stages(plan)
    if not any(b.rank for b in ex.branches):
        return "not a candidate of any branch: " + "; ".join(
            _absent(b, r) for b, r in zip(ex.branches, ranks, strict=True))
    kth = top[-1].score if top else None
    if not mine:
        return "not among the fused candidates"
    score = mine[0].score
    if plan.score_threshold is not None and score < plan.score_threshold:
        return f"its score {score:.6g} is below score_threshold {plan.score_threshold}"
    stage = "boosted" if st.boost else "reranked" if st.rerank else "fused" if st.fuse else "scored"
    moved = "" if ex.boost is None else _moved(ex.boost, ex.rank)
    if kth is None:
        return f"{stage} with score {score:.6g}, but no hit was returned{moved}"
    return f"{stage} below the k-th hit: score {score:.6g} < {kth:.6g} (gap {kth - score:.6g}){moved}"


def _moved(b: BoostShare, rank: int) -> str:
    """What the boost did to the record: lifted it, sank it, or left its score."""
    did = "lifted" if b.multiplier > 1 else "sank" if b.multiplier < 1 else "left"
    return (f"; the boost {did} it: its score {b.before:.6g} x{b.multiplier:.4g} "
            f"(#{b.rank_before} before the boost, #{rank} after)")


def _absent(b: explain.Branch, rank: int | None) -> str:
    if b.score is None:
        return f"{b.kind}: {b.absent}"
    where = f"rank {rank}" if rank is not None else f"rank > {DEEPEST}"
    return f"{b.kind}: {b.absent} {b.limit} ({where}, score {b.score:.6g})"
