import pytest

from hybridstore import InvalidInputError
from hybridstore.qdrant.query import Fuse, Nearest, SearchRequest, build_plan, query_kinds, resolve

ALL = {"dense", "sparse", "late_interaction"}
NAMES = {"dense": "d", "sparse": "s", "late_interaction": "l"}
VECS = {"dense": [0.1], "sparse": ([1], [1.0]), "late_interaction": [[0.1]]}


def plan(available=ALL, **kw):
    req = resolve(SearchRequest(**kw), available)
    return req, build_plan(req, VECS, NAMES, None)


def test_default_is_the_strongest_pipeline():
    req, p = plan(k=5)
    assert (req.mode, req.rerank) == ("hybrid", True)
    assert isinstance(p.root, Nearest) and p.root.using == "l" and p.root.limit == 5
    fuse = p.root.source
    assert isinstance(fuse, Fuse) and fuse.limit == 20
    assert [s.using for s in fuse.sources] == ["d", "s"] and all(s.limit == 20 for s in fuse.sources)
    assert query_kinds(req) == ["dense", "sparse", "late_interaction"]


def test_without_late_model_no_rerank_and_fusion_is_final():
    req, p = plan({"dense", "sparse"}, k=3)
    assert not req.rerank and isinstance(p.root, Fuse) and p.root.limit == 3


def test_single_modes():
    _, p = plan(k=4, mode="dense", rerank=False)
    assert p.root == Nearest("dense", "d", [0.1], 4)
    _, p = plan(k=4, mode="sparse", rerank=False)
    assert p.root.using == "s"
    _, p = plan({"sparse"}, k=2)
    assert p.root.using == "s"


def test_rerank_on_dense_uses_candidate_pool():
    _, p = plan(k=3, mode="dense", rerank=True, fetch_k=50)
    assert p.root.using == "l" and p.root.source == Nearest("dense", "d", [0.1], 50)


def test_weighted_rrf_and_dbsf():
    _, p = plan(k=3, rerank=False, weights=(0.7, 0.3), rrf_k=60)
    assert p.root.weights == (0.7, 0.3) and p.root.rrf_k == 60 and p.root.method == "rrf"
    _, p = plan(k=3, rerank=False, fusion="dbsf")
    assert p.root.method == "dbsf"
    _, p = plan(k=3, rerank=False, fusion="rrf")
    assert p.root.method == "rrf" and p.root.weights is None


def test_default_fusion_is_dbsf_and_weights_pick_rrf():
    req, p = plan(k=3, rerank=False)
    assert req.fusion == "dbsf" and p.root.method == "dbsf"
    req, p = plan(k=3, rerank=False, weights=(0.5, 0.5))
    assert req.fusion == "rrf" and p.root.method == "rrf"
    req, p = plan(k=3, rerank=False, rrf_k=60)
    assert req.fusion == "rrf" and p.root.rrf_k == 60


def test_mmr_lambda_maps_to_diversity():
    req, p = plan({"dense", "sparse"}, k=3, mmr=1.0)
    assert req.mode == "dense" and p.root.mmr_diversity == 0.0
    _, p = plan({"dense", "sparse"}, k=3, mmr=0.25, fetch_k=30)
    assert p.root.mmr_diversity == 0.75 and p.root.mmr_candidates == 30


def test_mmr_over_hybrid_candidates():
    _, p = plan({"dense", "sparse"}, k=3, mode="hybrid", mmr=0.5)
    assert p.root.using == "d" and p.root.mmr_diversity == 0.5 and isinstance(p.root.source, Fuse)


def test_threshold_and_limit_reach_the_plan():
    _, p = plan(k=7, score_threshold=0.3)
    assert p.limit == 7 and p.score_threshold == 0.3


@pytest.mark.parametrize("available, kw, words", [
    ({"dense"}, {"mode": "sparse"}, "needs a sparse model"),
    ({"dense"}, {"mode": "hybrid"}, "needs a sparse model"),
    ({"dense", "sparse"}, {"rerank": True}, "needs a late_interaction model"),
    ({"sparse"}, {"mmr": 0.5}, "needs a dense model"),
    (ALL, {"mode": "keyword"}, "mode 'keyword' is unknown"),
    (ALL, {"fusion": "max"}, "fusion 'max' is unknown"),
    (ALL, {"fusion": "dbsf", "weights": (1, 1)}, "are settings of fusion='rrf', not 'dbsf'"),
    (ALL, {"fusion": "dbsf", "rrf_k": 60}, "are settings of fusion='rrf', not 'dbsf'"),
    (ALL, {"weights": (1, 2, 3)}, "two non-negative"),
    (ALL, {"k": 0}, "k must be a positive integer"),
    (ALL, {"k": -3}, "k must be a positive integer"),
    (ALL, {"k": True}, "k must be a positive integer"),
    (ALL, {"k": 2.5}, "k must be a positive integer"),
    (ALL, {"mmr": 1.5}, r"within \[0, 1\]"),
    (ALL, {"mmr": 0.5, "rerank": True}, "pick one"),
    (ALL, {"score_threshold": "high"}, "must be a number"),
])
def test_bad_requests(available, kw, words):
    with pytest.raises(InvalidInputError, match=words):
        resolve(SearchRequest(**kw), available)


def test_relevance_is_in_0_1_per_last_stage():
    from hybridstore.qdrant.query import QueryPlan, relevance

    _, dense = plan(k=3, mode="dense", rerank=False)
    assert relevance(dense, 1.0) == 1.0 and relevance(dense, -1.0) == 0.0 and relevance(dense, 0.0) == 0.5
    _, sparse = plan(k=3, mode="sparse", rerank=False)
    assert relevance(sparse, 0.0) == 0.0 and 0.9 < relevance(sparse, 12.0) < 1.0
    _, rrf = plan(k=3, mode="hybrid", rerank=False, fusion="rrf")
    assert relevance(rrf, 2 * 1 / (1 + 2 - 1)) == 1.0  # rank 1 in both sources, k=2
    _, weighted = plan(k=3, mode="hybrid", rerank=False, weights=(1.0, 0.0), rrf_k=60)
    assert relevance(weighted, 1 / 60) == pytest.approx(1.0)  # rank 1: 1 / (k + 0)
    _, dbsf = plan(k=3, mode="hybrid", rerank=False, fusion="dbsf")
    assert relevance(dbsf, 1.0) == 0.5
    late = QueryPlan(Nearest("late_interaction", "l", [[0.1]] * 4, 3), 3)
    assert relevance(late, 4.0) == 1.0 and relevance(late, 0.0) == 0.5
