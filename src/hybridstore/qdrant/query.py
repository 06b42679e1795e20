"""Search requests -> engine-neutral query plans (pure functions, no I/O).

    dense | sparse           Nearest(vector)
    hybrid                   Fuse([Nearest(dense), Nearest(sparse)], rrf | dbsf)
    image                    Nearest(image): a text query through the image model's text tower,
                             or a query image (image=) through its image tower
    pages                    Nearest(page multivector, MaxSim, source=Nearest(pooled page vector)):
                             the pooled vector's HNSW graph finds candidates, the full MaxSim ranks them
    multimodal               Fuse([Nearest(k) for k in fuse]): text vectors and the image vector
                             and / or the pages stage
    + rerank                 Nearest(late multivector, source=<the above>)
    + mmr                    Nearest(dense, mmr, source=<the above, unless dense>)
    + boost                  Boosted(source=<the above>): the final stage, after fusion and the
                             rerank (a rerank replaces scores: a boost before it would be lost)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InvalidInputError
from .boost import Boost
from .filter_tree import Filter
from .schema import PAGES, POOLED, multivector

MODES = ("dense", "sparse", "hybrid", "image", "pages", "multimodal")
TEXT_KINDS = ("dense", "sparse")
PICTURED = ("image", "pages")  # what fuse= takes besides the text kinds: the image, the pages stage
PAGE_POOL = 100  # pages the pooled prefetch finds for the MaxSim rerank, at least (fetch_k= asks more)
FUSIONS = ("rrf", "dbsf")
RRF_DEFAULT_K = 2  # Qdrant's own default when no k is given
HNSW_EF = 128  # HNSW beam width of graph searches (at least the results asked for): engines'
               # defaults are too narrow for good recall
# DBSF beat RRF on SciFact with BM25 and with BM42 (benchmarks/fusion.py);
# weights= and rrf_k= exist for RRF only, so either one picks RRF.
DEFAULT_FUSION = "dbsf"


@dataclass(frozen=True)
class Nearest:
    kind: str
    using: str
    vector: Any
    limit: int
    source: Stage | None = None
    mmr_diversity: float | None = None
    mmr_candidates: int | None = None
    hnsw_ef: int | None = None  # set on searches of the whole collection (no source)
    rescore: float | None = None  # int8 vectors: oversampling, rescored from the originals

    def __post_init__(self) -> None:
        if self.source is None and self.hnsw_ef is None:
            object.__setattr__(self, "hnsw_ef", max(HNSW_EF, self.limit))


@dataclass(frozen=True)
class Fuse:
    sources: tuple[Stage, ...]
    method: str
    limit: int
    rrf_k: int | None = None
    weights: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Boosted:
    """`source`'s candidates rescored by the boost's formula (`qdrant.formula`); the best `limit`."""
    source: Stage
    boost: Boost
    limit: int


Stage = Nearest | Fuse | Boosted


@dataclass(frozen=True)
class QueryPlan:
    root: Stage
    limit: int
    filter: Filter | None = None
    score_threshold: float | None = None
    omit: tuple[str, ...] = ()  # payload keys hits never read (the layout's hashes)


@dataclass(frozen=True)
class SearchRequest:
    """What a caller asks for; `resolve` checks it against what the index can serve."""

    k: int = 10
    mode: str | None = None
    rerank: bool | None = None
    fusion: str | None = None  # DEFAULT_FUSION, or "rrf" when weights or rrf_k are given
    weights: tuple[float, ...] | None = None
    rrf_k: int | None = None
    mmr: float | None = None
    fetch_k: int | None = None
    score_threshold: float | None = None
    oversample: int = 4
    dense_limit: int | None = None
    sparse_limit: int | None = None
    group_by: str | None = None
    group_size: int = 1
    image: Any = None  # a query image (path, bytes, PIL image) for the image vector
    image_vector: Any = None  # or a ready query vector for it (made by the same image model)
    fuse: tuple[str, ...] | None = None  # multimodal: the kinds fused (default: all there are)
    boost: object = None  # a boost spec (`qdrant.boost`), a `Boost` once the search is checked

    def candidates(self) -> int:
        """Depth of each prefetch / rerank pool."""
        return max(self.fetch_k or 0, self.k * self.oversample, self.k)


def resolve(req: SearchRequest, available: set[str]) -> SearchRequest:
    """Fill defaults (the strongest pipeline available) and refuse what cannot be served."""
    _check_numbers(req)
    pictured_query = req.image is not None or req.image_vector is not None
    if req.image is not None and req.image_vector is not None:
        raise InvalidInputError("give a query image or an image_vector, not both")
    text_only = req.fuse is None and (req.mmr is not None or bool(req.rerank)
                                      or (req.weights is not None and len(req.weights) == 2))
    mode = req.mode or _default_mode(available, req.mmr is not None, text_only, pictured_query)
    if mode not in MODES:
        raise InvalidInputError(f"mode {mode!r} is unknown; use one of {', '.join(MODES)}")
    fuse = _fused(req, mode, available)
    needed = {"dense": {"dense"}, "sparse": {"sparse"}, "hybrid": {"dense", "sparse"}, "image": {"image"},
              "pages": {PAGES}, "multimodal": set()}[mode]
    _need(needed - available, f"mode {mode!r}", available)
    if pictured_query and "image" not in fuse + (mode,):
        raise InvalidInputError(f"a query image searches the image vector; mode {mode!r} does not "
                                "use it: use mode='image' or 'multimodal'")
    pictured = mode in ("image", "pages", "multimodal")
    rerank = ("late_interaction" in available and not pictured) if req.rerank is None else bool(req.rerank)
    if rerank:
        _need({"late_interaction"} - available, "rerank=True", available)
        if pictured:
            raise InvalidInputError(f"rerank uses the text's late-interaction vectors, which images "
                                    f"do not have; mode {mode!r} cannot rerank: pass rerank=False")
    rrf_only = req.weights is not None or req.rrf_k is not None
    fusion = req.fusion or ("rrf" if rrf_only else DEFAULT_FUSION)
    if fusion not in FUSIONS:
        raise InvalidInputError(f"fusion {fusion!r} is unknown; use one of {', '.join(FUSIONS)}")
    if rrf_only and fusion != "rrf":
        raise InvalidInputError(f"weights= and rrf_k= are settings of fusion='rrf', not {fusion!r}; "
                                "use fusion='rrf' or drop them")
    if req.weights is not None:
        sources = fuse or ("dense", "sparse")
        if len(req.weights) != len(sources):
            raise InvalidInputError(
                f"weights= takes {['two', 'three', 'four'][len(sources) - 2]} non-negative numbers ({', '.join(sources)})")
    if req.mmr is not None:
        _need({"dense"} - available, "mmr", available)
        if rerank:
            raise InvalidInputError("mmr and rerank both decide the final order; pick one")
        if pictured:
            raise InvalidInputError(f"mmr diversifies by the dense text vector; mode {mode!r} cannot use it")
        if req.boost is not None:
            raise InvalidInputError("mmr and boost both decide the final order; pick one")
    return SearchRequest(**{**req.__dict__, "mode": mode, "rerank": rerank, "fusion": fusion,
                            "fuse": fuse or None})


def _fused(req: SearchRequest, mode: str, available: set[str]) -> tuple[str, ...]:
    """The kinds a multimodal search fuses: as asked, else every text vector there is, the image
    and the pages."""
    if mode != "multimodal":
        if req.fuse is not None:
            raise InvalidInputError(f"fuse= chooses the vectors of mode='multimodal', not {mode!r}")
        return ()
    if req.fuse is None and not {"image", PAGES} & available:
        _need({"image"}, "mode 'multimodal'", available)
    fuse = tuple(req.fuse) if req.fuse is not None else \
        tuple(k for k in TEXT_KINDS if k in available) + tuple(k for k in PICTURED if _kind(k) in available)
    unknown = [k for k in fuse if k not in TEXT_KINDS + PICTURED]
    if unknown or len(set(fuse)) != len(fuse) or len(fuse) < 2:
        raise InvalidInputError(f"fuse= takes two or more of dense, sparse, image, pages, each once; got {req.fuse!r}")
    _need({_kind(k) for k in fuse} - available, "mode 'multimodal'", available)
    return fuse


def _kind(fused: str) -> str:
    """The model kind behind a name fuse= takes ("pages": the page model's)."""
    return PAGES if fused == "pages" else fused


def _kinds(fused: str) -> list[str]:
    """The query vectors a mode or fused name searches: the pages stage, both page vectors."""
    return [PAGES, POOLED] if fused == "pages" else [fused]


def query_kinds(req: SearchRequest) -> list[str]:
    """Which query embeddings a resolved request needs."""
    mode = _resolved(req.mode)
    names = list(req.fuse or ()) if mode == "multimodal" else ["dense", "sparse"] if mode == "hybrid" else [mode]
    kinds = [k for name in names for k in _kinds(name)]
    if req.rerank:
        kinds.append("late_interaction")
    if req.mmr is not None and "dense" not in kinds:
        kinds.append("dense")
    return kinds


def build_plan(
    req: SearchRequest,
    vectors: Mapping[str, Any],
    names: Mapping[str, str],
    filter: Filter | None = None,
    storage: Any = None,
    omit: tuple[str, ...] = (),
) -> QueryPlan:
    """`req` must be resolved; `vectors` are plain query vectors per kind; `storage` (the
    collection's `Storage`) sets the search beam and rescoring of quantized vectors; `omit`:
    payload keys not to read back."""
    plan = replace(_plan(req, vectors, names, filter), omit=omit)
    return plan if storage is None else replace(plan, root=_tuned(plan.root, storage))


def _tuned(stage: Stage, storage: Any) -> Stage:
    if isinstance(stage, Boosted):
        return replace(stage, source=_tuned(stage.source, storage))
    if isinstance(stage, Fuse):
        return replace(stage, sources=tuple(_tuned(s, storage) for s in stage.sources))
    source = None if stage.source is None else _tuned(stage.source, storage)
    graphed = stage.kind in ("dense", "image", POOLED)  # the vectors with an HNSW graph, as stored
    quantized = storage.quantize if graphed else storage.late_quantize if stage.kind == "late_interaction" else None
    ef = stage.hnsw_ef
    if storage.hnsw_ef is not None and stage.source is None and graphed:
        ef = max(storage.hnsw_ef, stage.limit)
    return replace(stage, source=source, hnsw_ef=ef, rescore=storage.oversampling if quantized else None)


def _plan(req: SearchRequest, vectors: Mapping[str, Any], names: Mapping[str, str],
          filter: Filter | None) -> QueryPlan:
    last_stage = not req.rerank and req.mmr is None and req.boost is None
    depth = req.k if last_stage else req.candidates()
    if req.mode in ("hybrid", "multimodal"):
        pool = req.candidates()
        limits = {"dense": req.dense_limit or pool, "sparse": req.sparse_limit or pool, "image": pool}
        root: Stage = Fuse(
            tuple(_pages(req, vectors, names, pool) if k == "pages" else Nearest(k, names[k], vectors[k], limits[k])
                  for k in req.fuse or TEXT_KINDS),
            _resolved(req.fusion), depth, (req.rrf_k or RRF_DEFAULT_K) if req.fusion == "rrf" else None,
            tuple(req.weights) if req.weights else None,
        )
    elif req.mode == "dense" and req.mmr is not None:
        return QueryPlan(
            _mmr(req, vectors, names, None),
            req.k, filter, req.score_threshold,
        )
    elif req.mode == "pages":
        root = _pages(req, vectors, names, depth)
    else:
        mode = _resolved(req.mode)
        root = Nearest(mode, names[mode], vectors[mode], depth)
    if req.rerank:
        late = "late_interaction"
        root = Nearest(late, names[late], vectors[late], req.k if req.boost is None else depth, root)
    elif req.mmr is not None:
        root = _mmr(req, vectors, names, root)
    if req.boost is not None:  # the boost reorders all the candidates, then keeps k
        assert isinstance(req.boost, Boost), "check the boost first (boost.read)"
        root = Boosted(root, req.boost, req.k)
    return QueryPlan(root, req.k, filter, req.score_threshold)


def _pages(req: SearchRequest, vectors: Mapping[str, Any], names: Mapping[str, str], limit: int) -> Nearest:
    """The pages stage: the pooled vectors' graph finds candidates, their patch vectors' MaxSim ranks them."""
    pooled = Nearest(POOLED, names[POOLED], vectors[POOLED], max(req.candidates(), PAGE_POOL, limit))
    return Nearest(PAGES, names[PAGES], vectors[PAGES], limit, pooled)


def _mmr(req: SearchRequest, vectors: Mapping[str, Any], names: Mapping[str, str],
         source: Stage | None) -> Nearest:
    assert req.mmr is not None  # called for MMR searches only
    return Nearest("dense", names["dense"], vectors["dense"], req.k, source, 1.0 - req.mmr,
                   req.candidates())


def _resolved(value: str | None) -> str:
    """A field `resolve` fills (mode, fusion)."""
    assert value is not None, "resolve() the request first"
    return value


def relevance(plan: QueryPlan, score: float) -> float:
    """A 0..1 relevance for a final score, by the plan's last stage:

    - dense (cosine, also after MMR): (1 + cos) / 2
    - sparse (dot product, unbounded): s / (1 + s)
    - late-interaction rerank and pages (MaxSim, a sum of one cosine per query token): (1 + s / n) / 2
    - RRF: the score divided by the best score RRF can give (rank 1 in every source)
    - DBSF: the sum of per-source normalised scores divided by the number of sources
    - boosted: the boosted score read as the stage it wraps reads its own, clamped: a boost
      moves a hit's relevance as it moves its score (factors above 1 can reach 1)
    """
    root = plan.root
    if isinstance(root, Boosted):
        return relevance(replace(plan, root=root.source), score)
    if isinstance(root, Fuse):
        if root.method == "dbsf":
            value = score / len(root.sources)
        else:
            k = root.rrf_k or RRF_DEFAULT_K
            weights = root.weights or (1.0,) * len(root.sources)
            value = score / sum(1.0 / (1.0 / w + k - 1.0) for w in weights if w > 0)
    elif root.kind == "sparse":
        value = score / (1.0 + score) if score > 0 else 0.0
    elif multivector(root.kind):
        value = (1.0 + score / max(len(root.vector), 1)) / 2.0
    else:
        value = (1.0 + score) / 2.0
    return min(1.0, max(0.0, value))


def _default_mode(available: set[str], wants_mmr: bool, text_only: bool, query_image: bool) -> str:
    """The strongest search the models allow: with an image or page model, text and images fused
    (images alone have no text vectors), unless what was asked (MMR, rerank, two weights) is
    text-only."""
    if query_image or ("image" in available and not available & {*TEXT_KINDS, PAGES}):
        return "image"
    if PAGES in available and not available & {*TEXT_KINDS, "image"}:
        return "pages"
    if available & {"image", PAGES} and not text_only:
        return "multimodal"
    if wants_mmr and "dense" in available:
        return "dense"
    if {"dense", "sparse"} <= available:
        return "hybrid"
    return "dense" if "dense" in available else "sparse"


def _weights_ok(weights: Any) -> bool:
    """Finite numbers, none negative, not all 0 (all 0 would rank by nothing)."""
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence) or not weights:
        return False
    numbers = [w for w in weights if isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w)]
    return len(numbers) == len(weights) and min(numbers) >= 0 and max(numbers) > 0


def _need(missing: set[str], what: str, available: set[str]) -> None:
    if missing:
        have = ", ".join(sorted(available)) or "nothing"
        raise InvalidInputError(
            f"{what} needs a {' and '.join(sorted(missing))} model, but this index has {have}; "
            f"configure Models({min(missing)}=...) or choose another mode"
        )


def _check_numbers(req: SearchRequest) -> None:
    def positive_int(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")

    positive_int("k", req.k)
    positive_int("oversample", req.oversample)
    positive_int("group_size", req.group_size)
    if req.group_by is not None and (not isinstance(req.group_by, str) or not req.group_by):
        raise InvalidInputError(f"group_by must be 'doc_id' or a metadata key, got {req.group_by!r}")
    for name in ("fetch_k", "dense_limit", "sparse_limit"):
        if getattr(req, name) is not None:
            positive_int(name, getattr(req, name))
    if req.rrf_k is not None:
        positive_int("rrf_k", req.rrf_k)
    if req.weights is not None and not _weights_ok(req.weights):
        raise InvalidInputError(f"weights= takes non-negative numbers, one per fused vector, at least "
                                f"one above 0, e.g. (1, 0.5); got {req.weights!r}")
    if req.mmr is not None and not (isinstance(req.mmr, (int, float)) and 0 <= req.mmr <= 1):
        raise InvalidInputError(f"mmr (lambda_mult) must be within [0, 1], got {req.mmr!r}")
    if req.score_threshold is not None and not isinstance(req.score_threshold, (int, float)):
        raise InvalidInputError(f"score_threshold must be a number, got {req.score_threshold!r}")
