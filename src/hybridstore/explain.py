"""Explained search results: `search(..., explain=True)` gives each hit an `Explanation`.

The search's own plan (`qdrant.query`) is taken apart into its stages, and each stage is asked
of the engine on its own, with the search's filter and the stage's own limit:

- each branch (a `Nearest` of the whole collection: dense, sparse, image; a fused search's pages
  stage, its pooled prefetch included) as a plain query: its candidates, their raw scores and
  ranks (1 = best); mode="pages" is the pooled vector's branch and the pages' MaxSim rerank;
- hits that are not among a branch's candidates are scored by that branch alone (a query
  confined to their ids), and a hit with no score there lacks the vector (or, sparse, shares no
  term with the query);
- the fusion is recomputed here exactly as Qdrant computes it (`rrf_part`, `dbsf_part`); the
  fused stage is asked too when a rerank follows, for each hit's rank before the rerank;
- sparse branches: one query per query term, confined to the hits, gives each term's weight
  as the engine scores it (the stored weight, times the term's IDF where the vector has Qdrant's
  IDF modifier); a term's contribution is that weight times the query's weight;
- a boost (`boost=`): the stage it wraps is asked for the scores and ranks before the boost,
  and each factor is recomputed from the stored payload (`explain_boost`);
- MMR (`mmr=`): its pool is asked ranked by relevance alone, for each hit's rank before MMR;
- grouping (`group_by=`): the plan ungrouped, as deep as the hits go, for each hit's ranks;
- every hit's score must come back from these recomputed stages (`agree`): a write in between
  raises `CollectionChangedError` rather than explain another collection.

Nothing here runs unless asked: `explain=False` (the default) searches exactly as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, TypedDict

from .engine.requests import Count, Found, Query, QueryBatch, ask
from .errors import CollectionChangedError, InvalidInputError
from .explain_boost import BoostFactor, BoostShare, boost_shares
from .qdrant import filters, groups
from .qdrant import query as qplan
from .qdrant.filter_tree import Filter, HasId, HasVector
from .qdrant.payload import SparseVec
from .qdrant.schema import multivector
from .steps import Steps

if TYPE_CHECKING:
    from .collection import Collection
    from .records import Hit


@dataclass(frozen=True)
class Term:
    """A query term of a sparse branch that the record holds."""

    index: int  # the sparse vector's index
    token: str | None  # the term, where the model's index maps back to one; None: it cannot be named
    query_weight: float
    stored_weight: float  # as the engine scores it: the record's weight (x IDF under the IDF modifier)
    contribution: float  # query_weight * stored_weight; they sum to the branch's raw score
    expansion: bool = False  # SPLADE: a term the model added, not a token of the query


@dataclass(frozen=True)
class Branch:
    """One searched vector (a prefetch of a fused search, or the only search)."""

    kind: str  # dense, sparse, image, late_interaction_multimodal(_pooled)
    vector: str  # the named vector searched
    limit: int  # how many candidates the branch gives (k * oversample, or dense_limit / sparse_limit)
    score: float | None  # the raw score (cosine, dot product); None: lacks the vector / no term in common
    rank: int | None  # 1-based among the branch's candidates; None: not a candidate
    absent: str | None = None  # why not a candidate: "below the branch's limit", "lacks the vector",
                                # "no query term in common"
    contribution: float | None = None  # its share of the fused score (None: no fusion)
    terms: tuple[Term, ...] = ()  # sparse branches: the matched query terms, best first


@dataclass(frozen=True)
class Normalization:
    """DBSF's scaling of one branch: (score - low) / (high - low), low/high = mean -/+ 3 std
    (sample std over the branch's candidates); 0.5 for a single candidate or equal scores."""

    mean: float
    std: float
    low: float
    high: float


@dataclass(frozen=True)
class Fusion:
    method: str  # "rrf" or "dbsf"
    rrf_k: int | None  # RRF: part = 1 / (rank / weight + rrf_k - 1), rank from 1 (0 for weight 0)
    weights: tuple[float, ...] | None  # RRF weights, in branch order (None: all 1)
    normalizations: tuple[Normalization | None, ...]  # DBSF, per branch (None: no candidates)
    score: float  # the sum of the branches' contributions
    rank: int  # 1-based among the fused candidates


@dataclass(frozen=True)
class Rerank:
    vector: str  # the late-interaction vector (MaxSim)
    score: float
    rank_before: int  # among the reranked candidates, by the stage before
    rank: int  # after the rerank

    @property
    def change(self) -> int:
        """Places gained (negative: lost)."""
        return self.rank_before - self.rank


@dataclass(frozen=True)
class Mmr:
    """MMR's pick (`mmr=`): the hit's rank by relevance alone (its similarity to the query, the
    hit's score) among the pool MMR picks from, and its rank after MMR traded relevance for
    diversity."""

    diversity: float  # the engine's diversity (1 - mmr): 0 picks by relevance alone
    candidates: int  # the pool MMR picks from (the best by the stage before it)
    rank_before: int  # by relevance among the pool (0: not in it)
    rank: int  # after MMR: the hit's rank in the results

    @property
    def change(self) -> int:
        """Places gained (negative: lost)."""
        return self.rank_before - self.rank


@dataclass(frozen=True)
class Group:
    """A grouped search's hit (`group_by=`): the group(s) it fills; its stages' ranks are its
    ranks in the ranking before grouping."""

    by: str
    keys: tuple[Any, ...]  # its values of the group key (a list's elements each)


@dataclass(frozen=True)
class Explanation:
    rank: int  # 1-based in the results
    score: float  # the engine's score: the rerank's, else the fusion's, else the branch's
    relevance: float  # 0..1, see `relevance_rule`
    relevance_rule: str  # how `relevance` follows from `score` (`qdrant.query.relevance`)
    branches: tuple[Branch, ...]
    fusion: Fusion | None = None
    rerank: Rerank | None = None
    boost: BoostShare | None = None  # `score` is the boosted one; the rerank's / fusion's are before it
    mmr: Mmr | None = None
    group: Group | None = None


@dataclass(frozen=True)
class Stages:
    """A plan taken apart: its branches, the fusion (if any), the rerank (if any), the boost (if any)."""

    branches: tuple[qplan.Nearest, ...]
    fuse: qplan.Fuse | None
    rerank: qplan.Nearest | None
    boost: qplan.Boosted | None = None
    mmr: qplan.Nearest | None = None


def stages(plan: qplan.QueryPlan) -> Stages:
    root, rerank, boost = plan.root, None, None
    if isinstance(root, qplan.Boosted):
        boost, root = root, root.source
    if isinstance(root, qplan.Nearest) and root.mmr_diversity is not None:
        if root.source is None:  # dense MMR: its pool is the dense branch
            return Stages((pool(root),), None, None, boost, root)
        return replace(stages(replace(plan, root=root.source)), mmr=root)
    if isinstance(root, qplan.Nearest) and root.source is not None:
        rerank, root = root, root.source
    if isinstance(root, qplan.Fuse):
        return Stages(tuple(s for s in root.sources if isinstance(s, qplan.Nearest)), root, rerank, boost)
    assert isinstance(root, qplan.Nearest)
    return Stages((root,), None, rerank, boost)


def pool(mmr: qplan.Nearest) -> qplan.Nearest:
    """MMR's pool ranked by relevance alone: its stage without the diversity."""
    size = mmr.mmr_candidates or mmr.limit
    ef = None if mmr.source is not None else max(mmr.hnsw_ef or 0, size)
    return replace(mmr, limit=size, mmr_diversity=None, mmr_candidates=None, hnsw_ef=ef)


def deepened(plan: qplan.QueryPlan, depth: int | None = None) -> qplan.QueryPlan:
    """The same plan, giving every candidate of its last stage (or `depth` of them), unthresholded."""
    if depth is None:
        st = stages(plan)
        depth = st.fuse.limit if st.fuse else st.branches[0].limit
        depth = max(depth, sum(b.limit for b in st.branches))
    return replace(plan, root=replace(plan.root, limit=depth), limit=depth, score_threshold=None)


def rrf_part(rank: int, weight: float, k: int) -> float:
    """Qdrant's RRF share of one branch for a candidate at `rank` (1-based)."""
    return 0.0 if weight <= 0 else 1.0 / (rank / weight + k - 1.0)


def normalization(scores: Sequence[float]) -> Normalization | None:
    if not scores:
        return None
    mean = sum(scores) / len(scores)
    var = sum((s - mean) ** 2 for s in scores) / (len(scores) - 1) if len(scores) > 1 else 0.0
    std = var ** 0.5
    return Normalization(mean, std, mean - 3 * std, mean + 3 * std)


def dbsf_part(score: float, norm: Normalization) -> float:
    return 0.5 if norm.high == norm.low else (score - norm.low) / (norm.high - norm.low)


def fused_parts(fuse: qplan.Fuse, ranked: Sequence[Sequence[Found]]) -> dict[str, list[float]]:
    """Each candidate's share from each branch (0 where it is not a candidate), as the engine fuses."""
    parts: dict[str, list[float]] = {}
    weights = fuse.weights or (1.0,) * len(fuse.sources)
    norms = [normalization([f.score for f in found]) for found in ranked]
    for b, found in enumerate(ranked):
        for rank, f in enumerate(found, 1):
            share = parts.setdefault(f.id, [0.0] * len(ranked))
            norm = norms[b]
            share[b] = rrf_part(rank, weights[b], fuse.rrf_k or qplan.RRF_DEFAULT_K) \
                if fuse.method == "rrf" else dbsf_part(f.score, norm) if norm else 0.0
    return parts


def _branch_plan(plan: qplan.QueryPlan, stage: qplan.Stage, limit: int, flt: Filter | None) -> qplan.QueryPlan:
    return qplan.QueryPlan(stage, limit, flt, None, plan.omit)


def _only(plan: qplan.QueryPlan, ids: Sequence[str]) -> Filter | None:
    return filters.and_filters(plan.filter, Filter(must=(HasId(tuple(ids)),)))


def explanations(plan: qplan.QueryPlan, found: Sequence[Found], names: dict[int, tuple[str, bool]] | None = None,
                 first: int = 1, checked: bool = True, ranks: Sequence[int] | None = None,
                 ) -> Steps[list[Explanation]]:
    """Steps: an `Explanation` per hit of `found` (the search's result for `plan`, ranked from
    `first`). `names`: sparse indices -> (term, is an expansion), for the query's terms that can
    be named. `checked`: the stages recomputed here must give `found` back (`agree`). `ranks`:
    each hit's rank in the last stage's ranking, where it is not its place in `found` (grouped)."""
    st = stages(plan)
    ranked = yield from ask(QueryBatch([_branch_plan(plan, b, b.limit, plan.filter) for b in st.branches]))
    ids = [f.id for f in found]
    scores = yield from _scores(plan, st.branches, ranked, ids)
    terms = yield from _terms(plan, st.branches, ids, names or {})
    before: dict[str, int] = {}  # ranks before the rerank / MMR: the fused stage's, else the branch's
    if st.rerank is not None or st.mmr is not None:
        fused = ranked[0]
        if st.fuse is not None:
            fused = yield from ask(Query(_branch_plan(plan, st.fuse, st.fuse.limit, plan.filter)))
        before = {f.id: r for r, f in enumerate(fused, 1)}
    parts = fused_parts(st.fuse, ranked) if st.fuse else {}
    boosts: dict[str, BoostShare] = {}
    if st.boost is not None:  # ranks and scores before the boost: the stage it wraps
        source = yield from ask(Query(_branch_plan(plan, st.boost.source, st.boost.source.limit, plan.filter)))
        boosts = yield from boost_shares(st.boost.boost, plan.filter, ids, source)
    relevant: Sequence[Found] = ()  # MMR's pool by relevance alone
    if st.mmr is not None:
        mine = pool(st.mmr)
        relevant = ranked[0] if st.mmr.source is None else (
            yield from ask(Query(_branch_plan(plan, mine, mine.limit, plan.filter))))
    picked = {f.id: r for r, f in enumerate(relevant, 1)}
    if checked:
        again = yield from _recomputed(plan, st, ranked, parts, boosts, relevant)
        ranked_hits = first == 1 and st.boost is None and ranks is None  # the stage's best, in order
        agree(found, again, 0 if not ranked_hits else 1 if st.mmr is not None else len(found))
    stage_ranks = ranks or range(first, first + len(found))
    out = []
    for rank, stage_rank, f in zip(range(first, first + len(found)), stage_ranks, found, strict=True):
        boost = boosts.get(f.id)
        last_rank, last_score = (stage_rank, f.score) if boost is None else (boost.rank_before, boost.before)
        shares = parts.get(f.id, [0.0] * len(st.branches)) if st.fuse else [None] * len(st.branches)
        branches = tuple(_branch(b, ranked[i], scores[i].get(f.id), f.id, shares[i], terms[i].get(f.id, ()))
                         for i, b in enumerate(st.branches))
        fusion = None
        if st.fuse is not None:
            fused_rank = before.get(f.id, 0) if st.rerank or st.mmr else last_rank
            fusion = Fusion(st.fuse.method, st.fuse.rrf_k, st.fuse.weights,
                            tuple(normalization([c.score for c in r]) if st.fuse.method == "dbsf" else None
                                  for r in ranked),
                            sum(parts.get(f.id, ())), fused_rank)
        rerank = None if st.rerank is None else Rerank(st.rerank.using, last_score, before.get(f.id, 0), last_rank)
        mmr = None if st.mmr is None else Mmr(st.mmr.mmr_diversity or 0.0, pool(st.mmr).limit,
                                              picked.get(f.id, 0), rank)
        out.append(Explanation(rank, f.score, qplan.relevance(plan, f.score), relevance_rule(plan),
                               branches, fusion, rerank, boost, mmr))
    return out


def _recomputed(plan: qplan.QueryPlan, st: Stages, ranked: Sequence[Sequence[Found]],
                parts: dict[str, list[float]], boosts: dict[str, BoostShare],
                relevant: Sequence[Found]) -> Steps[dict[str, float]]:
    """The last stage's score of each candidate, from this second look at the collection: the
    boost's (the hits' only), MMR's relevance (the pool's, asked), the rerank's (asked again,
    over its whole pool), the fusion's (summed here from the branches), else the only branch's."""
    if st.boost is not None:
        return {pid: b.score for pid, b in boosts.items() if b.rank_before}
    if st.mmr is not None:  # MMR's score is the hit's relevance, its similarity to the query
        return {f.id: f.score for f in relevant}
    if st.rerank is not None:
        depth = st.rerank.source.limit if st.rerank.source is not None else st.rerank.limit
        again = yield from ask(Query(_branch_plan(plan, replace(st.rerank, limit=depth), depth, plan.filter)))
        return {f.id: f.score for f in again}
    if st.fuse is not None:
        return {pid: sum(p) for pid, p in parts.items()}
    return {f.id: f.score for f in ranked[0]}


def agree(found: Sequence[Found], again: dict[str, float], top: int) -> None:
    """The hits as the search gave them agree with the stages recomputed for their explanation:
    each hit keeps its score, and no candidate but the first `top` hits (the best of the last
    stage: every hit of a ranked search, the first of an MMR search, none of a grouped one) now
    scores above the last of them. Else a write landed in between (another writer), and the
    explanation would describe another collection than the hits came from."""
    for f in found:
        now = again.get(f.id)
        if now is None or not _same(now, f.score):
            was = "is no longer a candidate" if now is None else f"scores {now:.6g} now"
            _changed(f"hit {f.id} scored {f.score:.6g} in the search and {was}")
    if top and found:
        hits, last = {f.id for f in found[:top]}, min(f.score for f in found[:top])
        above = [pid for pid, s in again.items() if pid not in hits and s > last and not _same(s, last)]
        if above:
            _changed(f"point {above[0]} now scores above the last hit ({again[above[0]]:.6g} > {last:.6g})")


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-5)  # engines score in float32


def _changed(what: str) -> None:
    raise CollectionChangedError(
        f"the collection changed while this search was explained (a write landed between the search and "
        f"the explanation's own queries): {what}. The explanation would not match the hits; search again "
        "(retry) to explain the collection as it is now")


def _branch(stage: qplan.Nearest, candidates: Sequence[Found], scored: tuple[float | None, str | None] | None,
            pid: str, contribution: float | None, terms: tuple[Term, ...]) -> Branch:
    rank = next((r for r, c in enumerate(candidates, 1) if c.id == pid), None)
    if rank is not None:
        return Branch(stage.kind, stage.using, stage.limit, candidates[rank - 1].score, rank, None, contribution, terms)
    score, absent = scored if scored is not None else (None, "lacks the vector")
    return Branch(stage.kind, stage.using, stage.limit, score, None, absent, contribution, terms)


def _scores(plan: qplan.QueryPlan, branches: Sequence[qplan.Nearest], ranked: Sequence[Sequence[Found]],
            ids: Sequence[str]) -> Steps[list[dict[str, tuple[float | None, str | None]]]]:
    """Per branch: the raw score of each id that is not its candidate, and why it is not."""
    out: list[dict[str, tuple[float | None, str | None]]] = []
    for b, found in zip(branches, ranked, strict=True):
        there = {f.id for f in found}
        missing = [i for i in ids if i not in there]
        got: dict[str, tuple[float | None, str | None]] = {}
        if missing:
            alone = yield from ask(Query(_branch_plan(plan, replace(b, limit=len(missing)), len(missing),
                                                      _only(plan, missing))))
            got = {f.id: (f.score, "below the branch's limit") for f in alone}
            for i in missing:
                if i not in got:
                    held = yield from ask(Count(Filter(must=(HasId((i,)), HasVector(b.using)))))
                    got[i] = (None, "no query term in common" if held else "lacks the vector")
        out.append(got)
    return out


def _terms(plan: qplan.QueryPlan, branches: Sequence[qplan.Nearest], ids: Sequence[str],
           names: dict[int, tuple[str, bool]]) -> Steps[list[dict[str, tuple[Term, ...]]]]:
    """Per sparse branch: each id's matched query terms (one engine query per query term)."""
    out: list[dict[str, tuple[Term, ...]]] = []
    for b in branches:
        got: dict[str, list[Term]] = {}
        vec = b.vector
        if b.kind == "sparse" and ids and isinstance(vec, SparseVec) and vec.indices:
            plans = [_branch_plan(plan, replace(b, vector=SparseVec([i], [1.0]), limit=len(ids)), len(ids),
                                  _only(plan, ids)) for i in vec.indices]
            found = yield from ask(QueryBatch(plans))
            for index, weight, hits in zip(vec.indices, vec.values, found, strict=True):
                token, expansion = names.get(index, (None, False))
                for f in hits:
                    if f.score:
                        got.setdefault(f.id, []).append(Term(index, token, weight, f.score, weight * f.score, expansion))
        out.append({i: tuple(sorted(t, key=lambda t: -t.contribution)) for i, t in got.items()})
    return out


def relevance_rule(plan: qplan.QueryPlan) -> str:
    root = plan.root
    if isinstance(root, qplan.Boosted):
        return relevance_rule(replace(plan, root=root.source)) + ", of the boosted score, clamped to 0..1"
    if isinstance(root, qplan.Fuse):
        if root.method == "dbsf":
            return f"dbsf: score / {len(root.sources)} (the number of branches), within 0..1"
        k = root.rrf_k or qplan.RRF_DEFAULT_K
        weights = root.weights or (1.0,) * len(root.sources)
        best = sum(rrf_part(1, w, k) for w in weights)
        return f"rrf: score / {best:.6g} (the score of rank 1 in every branch)"
    if root.kind == "sparse":
        return "sparse dot product: score / (1 + score)"
    if multivector(root.kind):
        return f"late interaction MaxSim: (1 + score / {max(len(root.vector), 1)} query tokens) / 2"
    return "cosine: (1 + score) / 2"


def term_names(model: Any, text: str, indices: Sequence[int]) -> dict[int, tuple[str, bool]]:
    """Sparse indices of `text`'s query vector -> (term, an expansion?), where the fastembed model
    allows: BM25 and BM42 hash the query's own (stemmed) words, so a word is named where its
    hash is the index; SPLADE indexes its tokenizer's vocabulary. Other models' terms stay
    unnamed (and so do these models' if fastembed's internals change: no name is guessed)."""
    inner = getattr(model, "model", model)
    kind = type(inner).__name__
    if kind == "Bm25" and all(hasattr(inner, a) for a in ("tokenizer", "_stem", "compute_token_id")):
        hashed: dict[int, str] = {inner.compute_token_id(w): w for w in inner._stem(inner.tokenizer.tokenize(text))}
    elif kind == "Bm42" and all(hasattr(inner, a) for a in (
            "_ensure_tokenizer", "_reconstruct_bpe", "_filter_pair_tokens", "_stem_pair_tokens", "_query_rehash")):
        inner._ensure_tokenizer()
        pairs = inner._reconstruct_bpe(enumerate(inner.tokenizer.encode(text).tokens))
        hashed = {i: w for w, _ in inner._stem_pair_tokens(inner._filter_pair_tokens(pairs))
                  for i in inner._query_rehash([w])}
    elif kind == "SpladePP" and hasattr(getattr(inner, "tokenizer", None), "id_to_token"):
        own = set(inner.tokenizer.encode(text).ids)
        return {i: (str(inner.tokenizer.id_to_token(i)), i not in own) for i in indices}
    else:
        return {}
    return {i: (hashed[i], False) for i in indices if i in hashed}


def check(req: qplan.SearchRequest) -> None:
    """What is explained: every plan, grouped or diversified (MMR), but not both at once."""
    if req.group_by is not None and req.mmr is not None:
        raise InvalidInputError("explain=True explains a grouped search or an MMR search, not both at once: "
                                "drop group_by= or mmr=")


def attach(col: Collection, text: str, plan: qplan.QueryPlan, points: Sequence[Found],
           hits: Sequence[Hit]) -> Steps[list[Hit]]:
    """Steps: `hits` (the search's, from `points`), each with its explanation."""
    names = term_names_of(col, text, plan)
    found = yield from explanations(plan, points, names)
    return [replace(h, explanation=e) for h, e in zip(hits, found, strict=True)]


def attach_grouped(col: Collection, text: str, plan: qplan.QueryPlan, hits: Sequence[Hit],
                   group_by: str) -> Steps[list[Hit]]:
    """Steps: a grouped search's `hits` (from `plan`, ungrouped), each with its explanation: its
    stages ranked in the ungrouped ranking, read as deep as the hits go."""
    pids = [col.pid_of(h.record) for h in hits]
    deep = deepened(plan)
    while True:
        ranking = yield from ask(Query(deep))
        at = {f.id: r for r, f in enumerate(ranking, 1)}
        if all(p in at for p in pids) or len(ranking) < deep.limit:
            break
        deep = deepened(plan, deep.limit * 2)
    lost = [h.record.id for h, p in zip(hits, pids, strict=True) if p not in at]
    if lost:
        _changed(f"hit {lost[0]!r} is no longer among the candidates")
    mine = [Found(p, {}, h.score) for p, h in zip(pids, hits, strict=True)]
    found = yield from explanations(deep, mine, term_names_of(col, text, plan), ranks=[at[p] for p in pids])
    return [replace(h, explanation=replace(e, group=Group(group_by, tuple(groups.record_keys(h, group_by)))))
            for h, e in zip(hits, found, strict=True)]


def term_names_of(col: Collection, text: str, plan: qplan.QueryPlan) -> dict[int, tuple[str, bool]]:
    sparse = col.models.sparse
    vec = next((b.vector for b in stages(plan).branches if b.kind == "sparse"), None)
    if sparse is None or not isinstance(vec, SparseVec):
        return {}
    return term_names(sparse.model, text, vec.indices)


# -- the explanation as plain values: for frameworks' metadata, agents, the command line -------

KEY = "_explanation"  # the metadata key of a LangChain Document / LlamaIndex node that carries it
TERMS_SHOWN = 3  # matched terms a brief names per sparse branch


def as_dict(e: Explanation) -> dict[str, Any]:
    """The whole explanation as plain values (dicts, lists, numbers, strings): JSON-ready, and
    the rerank's `change` and the boost's `multiplier` spelled out."""
    out = _plain(asdict(e))
    assert isinstance(out, dict)
    if e.rerank is not None:
        out["rerank"]["change"] = e.rerank.change
    if e.boost is not None:
        out["boost"]["multiplier"] = e.boost.multiplier
    if e.mmr is not None:
        out["mmr"]["change"] = e.mmr.change
    return out


def into(metadata: dict[str, Any], e: Explanation, record_id: str) -> dict[str, Any]:
    """A result's metadata (a framework's copy) with its explanation under KEY. A record whose
    own metadata holds KEY is refused: the explanation would silently hide the user's value."""
    if KEY in metadata:
        raise InvalidInputError(
            f"record {record_id!r} has its own metadata key {KEY!r}, where explain=True puts the "
            "explanation: rename that key in the stored metadata, or search without explain=True "
            "(the core's search gives the explanation as Hit.explanation, with no such clash)")
    return {**metadata, KEY: as_dict(e)}


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class BranchBrief(TypedDict):
    kind: str
    rank: int | None  # among the branch's candidates; None: not one (see `absent`)
    score: float | None  # raw
    contribution: float | None  # share of the fused score; None: no fusion
    absent: str | None
    terms: list[str]  # sparse: the best matched terms, "term=contribution"; "~term": a model's expansion


class RerankBrief(TypedDict):
    score: float
    rank_before: int
    change: int  # places gained (negative: lost)


class BoostBrief(TypedDict):
    before: float  # the score before the boost
    rank_before: int
    multiplier: float  # every factor multiplied
    factors: list[str]  # "recency published=<stored>: x0.5", "match <filter>: x1.3" (met) or "x1 (not met)"


class MmrBrief(TypedDict):
    rank_before: int  # by relevance alone among MMR's pool (0: not in it)
    rank: int  # after MMR
    change: int  # places gained (negative: lost)


class Brief(TypedDict):
    rank: int
    score: float
    relevance: float
    branches: list[BranchBrief]
    fused: float | None  # the fusion's score (None: one branch)
    fused_rank: int | None
    rerank: RerankBrief | None
    boost: BoostBrief | None
    mmr: MmrBrief | None
    group: str | None  # "topic='music'": the group key and the hit's values of it


def brief(e: Explanation, terms: int = TERMS_SHOWN) -> Brief:
    """The explanation in short: each branch's rank, raw score and fusion share, the fused score,
    the rerank's change, the best `terms` matched terms of each sparse branch, the boost, MMR's
    reordering and the hit's group."""
    return Brief(
        rank=e.rank, score=e.score, relevance=e.relevance,
        branches=[BranchBrief(kind=b.kind, rank=b.rank, score=b.score, contribution=b.contribution,
                              absent=b.absent, terms=[_term(t) for t in b.terms[:terms]]) for b in e.branches],
        fused=e.fusion.score if e.fusion else None, fused_rank=e.fusion.rank if e.fusion else None,
        rerank=None if e.rerank is None else RerankBrief(
            score=e.rerank.score, rank_before=e.rerank.rank_before, change=e.rerank.change),
        boost=None if e.boost is None else BoostBrief(
            before=e.boost.before, rank_before=e.boost.rank_before, multiplier=e.boost.multiplier,
            factors=[_factor(f) for f in e.boost.factors]),
        mmr=None if e.mmr is None else MmrBrief(rank_before=e.mmr.rank_before, rank=e.mmr.rank, change=e.mmr.change),
        group=None if e.group is None else f"{e.group.by}={', '.join(map(repr, e.group.keys))}")


def _factor(f: BoostFactor) -> str:
    if f.kind == "match":
        return f"match {f.key}: x{f.factor:.4g}" + ("" if f.applied else " (not met)")
    value = "absent" if f.value is None else repr(f.value)
    return f"{f.kind} {f.key}={value}: x{f.factor:.4g}"


def _term(t: Term) -> str:
    name = t.token if t.token is not None else f"#{t.index}"
    return f"{'~' if t.expansion else ''}{name}={t.contribution:.3g}"


def branch_said(b: BranchBrief) -> str:
    """"dense #1 0.812 (+0.5)", "sparse - (no query term in common)"."""
    if b["rank"] is None:
        score = "" if b["score"] is None else f" {b['score']:.4g}"
        return f"{b['kind']} -{score} ({b['absent']})"
    share = "" if b["contribution"] is None else f" (+{b['contribution']:.3g})"
    return f"{b['kind']} #{b['rank']} {b['score']:.4g}{share}"


def said(e: Explanation) -> str:
    """The brief in one line: "dense #1 0.812 (+0.5), sparse #2 4.1 (+0.333) [guitar=2.5];
    fused 0.833 (#1); rerank #3 -> #1 (+2)"."""
    b = brief(e)
    parts = [branch_said(x) + (f" [{', '.join(x['terms'])}]" if x["terms"] else "") for x in b["branches"]]
    out = ", ".join(parts)
    if b["fused"] is not None:
        out += f"; fused {b['fused']:.4g} (#{b['fused_rank']})"
    r = b["rerank"]
    if r is not None:
        out += f"; rerank #{r['rank_before']} -> #{r['rank_before'] - r['change']} ({r['change']:+d})"
    x = b["boost"]
    if x is not None:
        out += (f"; boost {x['before']:.4g} x{x['multiplier']:.4g} [{', '.join(x['factors'])}] = {b['score']:.4g}"
                f" (#{x['rank_before']} -> #{b['rank']})")
    m = b["mmr"]
    if m is not None:
        out += f"; mmr #{m['rank_before']} -> #{m['rank']} ({m['change']:+d})"
    if b["group"] is not None:
        out += f"; group {b['group']}"
    return out
