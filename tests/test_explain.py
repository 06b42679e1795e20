"""search(explain=True) and why_not, on the engine of $HYBRIDSTORE_ENGINE and (`either`) on a
server, the fake of tests/reliability ranking as Qdrant does: the explanations alone give back
the engine's order and scores, for every fusion and mode."""

from __future__ import annotations

import itertools
import math

import pytest

from hybridstore import explain
from hybridstore.engine.requests import Query, QueryBatch

QUERIES = ["guitar music on the street", "the bank raised interest rates", "animals at night"]
CASES = [{"mode": m, "fusion": f, "rerank": r} for m in ("hybrid",) for f in ("rrf", "dbsf") for r in (False, True)] \
    + [{"mode": m, "rerank": r} for m in ("dense", "sparse") for r in (False, True)] \
    + [{"mode": "hybrid", "fusion": "rrf", "weights": (1.0, 0.5), "rrf_k": 3, "rerank": False}]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)  # engines score in float32


def fused(e: explain.Explanation) -> float:
    """The fused score from the explanation's own numbers."""
    f = e.fusion
    assert f is not None
    weights = f.weights or (1.0,) * len(e.branches)
    total = 0.0
    for b, w, norm in zip(e.branches, weights, f.normalizations, strict=True):
        if b.rank is None:
            part = 0.0
        elif f.method == "rrf":
            assert f.rrf_k is not None
            part = explain.rrf_part(b.rank, w, f.rrf_k)
        else:
            assert norm is not None and b.score is not None
            part = explain.dbsf_part(b.score, norm)
        assert b.contribution is not None and close(part, b.contribution)
        total += part
    return total


def same_order(hits, key) -> None:
    """The engine's order is `key`'s, best first. Hits of equal key (a tie, within float32's
    precision) may come in either order: engines break ties their own way (local mode keeps the
    first branch's order, edge its own), so a tie is not an order to check."""
    keys = [key(h) for h in hits]
    assert all(a >= b or close(a, b) for a, b in itertools.pairwise(keys)), keys


@pytest.fixture
def served(models, records):
    """An index on a server: the fake of tests/reliability in its scoring mode (its queries
    ranked by qdrant-client's local mode after a JSON round trip, as a server would rank them)."""
    from hybridstore import HybridIndex

    from .reliability.fake_qdrant import FakeQdrant

    with FakeQdrant(scoring=True) as fake, HybridIndex("explained", models, url=fake.url) as idx:
        idx.add(records)
        yield idx


@pytest.fixture(params=["embedded", "server"])
def either(request):
    """The index on this run's embedded engine, then on a (fake, scoring) server."""
    return request.getfixturevalue("index" if request.param == "embedded" else "served")


@pytest.mark.parametrize("opts", CASES, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_explanations_give_back_the_engines_order_and_scores(either, opts):
    index = either
    for q in QUERIES:
        hits = index.search(q, 3, explain=True, oversample=2, **opts)
        assert hits
        plain = index.search(q, 3, oversample=2, **opts)
        assert [h.record.id for h in plain] == [h.record.id for h in hits]
        for rank, h in enumerate(hits, 1):
            e = h.explanation
            assert e is not None and e.rank == rank and close(e.score, h.score) and e.relevance == h.relevance
            assert [b.kind for b in e.branches] == (["dense", "sparse"] if opts["mode"] == "hybrid" else [opts["mode"]])
            for b in e.branches:
                if b.kind == "sparse" and b.score is not None:  # its terms sum to its raw score
                    assert b.terms and close(sum(t.contribution for t in b.terms), b.score)
                    assert all(t.token for t in b.terms)  # BM25's terms are named from the query
                if b.rank is None:
                    assert b.absent
            if e.rerank is not None:
                assert opts["rerank"] and close(e.rerank.score, h.score) and e.rerank.rank == rank
                before = e.fusion.rank if e.fusion else e.branches[0].rank
                assert e.rerank.rank_before == before
            elif e.fusion is not None:
                assert close(fused(e), h.score) and e.fusion.rank == rank
            else:
                assert e.branches[0].rank == rank and close(e.branches[0].score, h.score)
        if hits[0].explanation.rerank is None and hits[0].explanation.fusion is not None:
            same_order(hits, lambda h: fused(h.explanation))
        else:
            same_order(hits, lambda h: h.explanation.score)


def test_rrf_counts_ranks_from_one(either):
    """Qdrant's RRF: 1 / (rank + k - 1), rank from 1; the best hit of both branches at k=2 has 1/2 + 1/2."""
    index = either
    best = index.search("guitar music on the street", 1, explain=True, mode="hybrid", fusion="rrf", rerank=False)[0]
    assert [b.rank for b in best.explanation.branches] == [1, 1]
    assert close(best.score, 1.0)


def test_a_branch_that_misses_a_hit_says_why(either):
    index = either
    hits = index.search("guitar music on the street", 3, explain=True, mode="hybrid", fusion="rrf",
                        rerank=False, oversample=1)
    piano = next(h for h in hits if h.record.id == "piano")
    sparse = piano.explanation.branches[1]
    assert sparse.rank is None and sparse.score is None and sparse.absent == "no query term in common"
    assert sparse.contribution == 0.0


def test_explain_off_asks_the_engine_what_it_did(index):
    """explain=False (the default) asks what a search asked before explain existed (checked
    against the commit before it: one Query, then the Changes of the completeness check);
    explain=True asks the branches on top."""
    from hybridstore.engine.requests import Changes

    seen: list[object] = []
    run = index.engine.run

    def counting(collection, request):
        seen.append(type(request))
        return run(collection, request)

    index.search("guitar", 3, fusion="rrf")  # the first search also counts the points once
    index.engine.run = counting
    index.search("guitar", 3, fusion="rrf")
    assert seen == [Query, Changes]
    seen.clear()
    index.search("guitar", 3, fusion="rrf", explain=False)
    assert seen == [Query, Changes]
    seen.clear()
    index.search("guitar", 3, fusion="rrf", explain=True)
    assert seen[0] == Query and QueryBatch in seen


async def test_asearch_explains_through_the_same_steps(index):
    hits = await index.asearch("guitar music on the street", 3, explain=True, fusion="dbsf", rerank=False)
    sync = index.search("guitar music on the street", 3, explain=True, fusion="dbsf", rerank=False)
    assert [h.explanation for h in hits] == [h.explanation for h in sync]


def test_explain_refuses_what_it_does_not_cover(index):
    from hybridstore.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="group_by"):
        index.search("guitar", 3, explain=True, group_by="topic", mmr=0.5, rerank=False)
    with pytest.raises(InvalidInputError, match="why_not .*group_by"):
        index.why_not("guitar", "piano", 3, group_by="topic")


GROUPED = [{"mode": "hybrid", "fusion": f, "rerank": r} for f in ("rrf", "dbsf") for r in (False, True)] \
    + [{"mode": "dense", "rerank": False}, {"mode": "hybrid", "fusion": "rrf", "rerank": False,
                                             "boost": {"factor": "year"}}]


@pytest.mark.parametrize("opts", GROUPED, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_a_grouped_search_explains_each_groups_hits(either, opts):
    """Each hit of each group: its stages ranked in the ungrouped ranking (asked of the engine
    as a plain search), and its numbers give back its score."""
    index = either
    q = "guitar music on the street"
    hits = index.search(q, 3, explain=True, group_by="topic", group_size=2, **opts)
    plain = index.search(q, 3, group_by="topic", group_size=2, **opts)
    assert [h.record.id for h in hits] == [h.record.id for h in plain] and len(hits) > 3
    ranking = index.search(q, len(index.get()), **opts)  # ungrouped, every record
    for rank, h in enumerate(hits, 1):
        e = h.explanation
        assert e.rank == rank and close(e.score, h.score) and e.group.by == "topic"
        assert e.group.keys == (h.record.metadata["topic"],)
        assert explain.said(e).endswith(f"; group topic={h.record.metadata['topic']!r}")
        if e.boost is not None:
            assert close(e.boost.score, h.score) and e.boost.rank_before
            continue
        stage_rank = e.rerank.rank if e.rerank else e.fusion.rank if e.fusion else e.branches[0].rank
        assert close(ranking[stage_rank - 1].score, h.score)  # its rank, up to ties
        if e.rerank is None and e.fusion is not None:
            assert close(fused(e), h.score)
        if e.rerank is not None:
            assert e.rerank.rank_before == e.fusion.rank


@pytest.mark.parametrize("opts", [{"mode": "dense"}, {"mode": "hybrid", "fusion": "rrf"},
                                  {"mode": "hybrid", "fusion": "dbsf"}], ids=lambda o: "-".join(o.values()))
def test_an_mmr_search_explains_relevance_and_the_reordering(either, opts):
    """MMR's score is the hit's similarity to the query (the dense branch's raw score); its rank
    by that among MMR's pool, and after MMR; the fusion before it exact as ever."""
    index = either
    q = "guitar music on the street"
    opts = {**opts, "mmr": 0.3, "oversample": 2, "rerank": False}
    hits = index.search(q, 4, explain=True, **opts)
    assert [h.record.id for h in hits] == [h.record.id for h in index.search(q, 4, **opts)]
    relevance = [h.record.id for h in index.search(q, 8, mode="dense", rerank=False)]  # the pool (all 8) by similarity
    for rank, h in enumerate(hits, 1):
        e = h.explanation
        assert e.rank == rank and e.mmr.rank == rank and e.mmr.candidates == 8
        assert math.isclose(e.mmr.diversity, 0.7) and e.mmr.change == e.mmr.rank_before - rank
        assert relevance[e.mmr.rank_before - 1] == h.record.id
        assert explain.said(e).endswith(f"; mmr #{e.mmr.rank_before} -> #{rank} ({e.mmr.change:+d})")
        assert explain.as_dict(e)["mmr"]["change"] == e.mmr.change
        dense = e.branches[0]
        assert dense.kind == "dense" and close(dense.score, h.score)
        if e.fusion is not None:
            assert close(fused(e), e.fusion.score) and e.fusion.rank >= 1
    assert any(h.explanation.mmr.change for h in hits)  # MMR reordered: "guitar-2" is passed over
    if opts["mode"] == "hybrid":
        by_fusion = sorted(hits, key=lambda h: h.explanation.fusion.rank)
        same_order(by_fusion, lambda h: h.explanation.fusion.score)


def test_why_not_in_the_top_k(either):
    index = either
    top = index.search("guitar music on the street", 3, rerank=False)
    w = index.why_not("guitar music on the street", top[1].record.id, 3, rerank=False)
    assert w.rank == 2 and w.reason is None


def test_why_not_filtered_out_names_the_condition(either):
    index = either
    w = index.why_not("guitar music on the street", "guitar-1", 3, filter={"topic": "finance"}, rerank=False)
    assert w.rank is None and w.reason.startswith("filtered out") and "finance" in w.reason


def test_why_not_below_the_cut_off_and_fused_below(either):
    index = either
    w = index.why_not("guitar music on the street", "volcano", 2, mode="dense", rerank=False, oversample=1)
    assert w.rank is None and "not a candidate" in w.reason and "below the branch's limit 2" in w.reason
    dense = index.search("guitar music on the street", 8, mode="dense", rerank=False)
    assert w.branch_ranks == (1 + [h.record.id for h in dense].index("volcano"),)
    assert f"rank {w.branch_ranks[0]}," in w.reason
    w = index.why_not("guitar music on the street", "piano", 2, mode="hybrid", fusion="rrf", rerank=False)
    assert w.reason.startswith("fused below the k-th hit") and "gap" in w.reason
    assert w.explanation is not None and w.explanation.fusion.rank > 2


def test_why_not_unknown_id(either):
    index = either
    assert "no record" in index.why_not("guitar", "nope", 3).reason


def test_explain_asks_a_server_only_what_it_takes(models, records):
    """On a server (the fake of tests/reliability, which checks each request body against
    qdrant-client's REST models and neither scores nor fuses): the branch, id-confined and
    per-term queries are requests a Qdrant server accepts. (Its scores are all 1.0 here;
    exactness on a server is tested above, on the fake in its scoring mode.)"""
    from hybridstore import HybridIndex

    from .reliability.fake_qdrant import FakeQdrant

    with FakeQdrant() as fake:
        idx = HybridIndex("explained", models, url=fake.url)
        idx.add(records)
        hits = idx.search("guitar music on the street", 3, explain=True, fusion="rrf")
        assert hits and all(h.explanation is not None and h.explanation.rerank is not None for h in hits)
        assert any("/points/query/batch" in path for _, path, _ in fake.bodies)
        assert idx.why_not("guitar", "volcano", 3, filter={"topic": "music"}).reason.startswith("filtered out")
        mmr = idx.search("guitar music on the street", 3, explain=True, mmr=0.5, rerank=False)
        assert mmr and all(h.explanation.mmr.rank_before >= 1 for h in mmr)
        idx.close()


@pytest.mark.parametrize("opts", [{"fusion": "rrf"}, {"fusion": "dbsf"}, {"mode": "dense", "rerank": False}])
def test_a_grouped_search_on_a_server_explains_each_groups_hits(models, records, opts):
    """On a server (the fake, every score 1.0): explain=True groups in the core, as on the
    embedded engines, and its hits are the server's own groups (its groups endpoint, asked
    without explain=True); each hit's explanation is its stage in the ungrouped ranking with
    its group's key. (The fake does not fuse: a last stage the core recomputes from ranks, RRF
    without a rerank, is tested on the engines only.)"""
    from hybridstore import HybridIndex

    from .reliability.fake_qdrant import FakeQdrant

    q = "guitar music on the street"
    with FakeQdrant() as fake, HybridIndex("explained", models, url=fake.url) as idx:
        idx.add(records)
        hits = idx.search(q, 2, explain=True, group_by="topic", group_size=2, **opts)
        assert not any(path.endswith("/points/query/groups") for _, path, _ in fake.bodies)
        served = idx.search(q, 2, group_by="topic", group_size=2, **opts)
        assert any(path.endswith("/points/query/groups") for _, path, _ in fake.bodies)
        assert [h.record.id for h in served] == [h.record.id for h in hits]
        stored = [r.metadata["topic"] for r in idx.get()]  # ties: groups in the order points were stored
        topics = list(dict.fromkeys(stored))[:2]
        assert [h.record.metadata["topic"] for h in hits] == [t for t in topics for _ in range(min(2, stored.count(t)))]
        ranking = [h.record.id for h in idx.search(q, len(stored), **opts)]
        for rank, h in enumerate(hits, 1):
            e = h.explanation
            assert e.rank == rank and e.group.keys == (h.record.metadata["topic"],)
            stage_rank = e.rerank.rank if e.rerank else e.fusion.rank if e.fusion else e.branches[0].rank
            assert stage_rank == ranking.index(h.record.id) + 1  # ties: exactly, in the order stored


def test_search_batch_explains_each_query_as_search_does(either):
    index = either
    def stands(hits):  # ranks exactly, scores as far as float32 goes (local mode's batch rounds its own way)
        return [(e.rank, [(b.rank, b.absent) for b in e.branches], e.fusion.rank, e.rerank.rank_before,
                 [round(b.score or 0, 4) for b in e.branches], round(e.score, 3))
                for e in (h.explanation for h in hits)]

    batch = index.search_batch(QUERIES, 3, explain=True, fusion="dbsf")
    assert [stands(hits) for hits in batch] == [stands(index.search(q, 3, explain=True, fusion="dbsf"))
                                                 for q in QUERIES]
    assert all(h.explanation is None for h in index.search_batch(QUERIES, 3)[0])


def test_why_not_names_the_failing_condition_of_an_and(either):
    index = either
    w = index.why_not("guitar", "guitar-1", 3, filter={"topic": "music", "year": {"$gte": 2020}}, rerank=False)
    assert w.reason.startswith("filtered out: it fails Range(") and "year" in w.reason


@pytest.mark.parametrize("sparse", ["prithivida/Splade_PP_en_v1", "Qdrant/bm42-all-minilm-l6-v2-attentions"])
def test_sparse_terms_are_named_by_the_model(records, sparse):
    """SPLADE's terms by its vocabulary (its expansions marked), BM42's by hashing the query's
    words; each term's contribution sums to the branch's raw score."""
    from hybridstore import HybridIndex, Models

    idx = HybridIndex("terms", Models(sparse=sparse), location=":memory:")
    idx.add(records)
    hit = idx.search("guitar music on the street", 1, explain=True, mode="sparse")[0]
    branch = hit.explanation.branches[0]
    assert close(sum(t.contribution for t in branch.terms), branch.score) and close(branch.score, hit.score)
    tokens = {t.token for t in branch.terms}
    assert {"guitar", "street"} <= tokens and None not in tokens
    assert any(t.expansion for t in branch.terms) == sparse.startswith("prithivida")
    idx.close()


async def test_why_not_reranked_below_the_k_th_hit(either):
    index = either
    q = "guitar music on the street"
    hits = index.search(q, 3, rerank=True)
    w = await index.awhy_not(q, hits[2].record.id, 2, rerank=True)
    assert w.reason.startswith("reranked below the k-th hit") and "gap" in w.reason
    assert w.explanation.rerank.rank == 3 and w.explanation.rerank.rank_before == w.explanation.fusion.rank


def test_a_tenants_view_explains_its_own_records(models, records):
    from hybridstore import HybridIndex

    idx = HybridIndex("tenants", models, location=":memory:", tenant_key="tenant")
    acme, beta = idx.tenant("acme"), idx.tenant("beta")
    acme.add(records)
    beta.add(records[:3])
    hits = beta.search("guitar street", 3, explain=True, fusion="rrf", rerank=False)
    assert [h.explanation.fusion.rank for h in hits] == [1, 2, 3]
    assert all(close(h.explanation.fusion.score, h.score) for h in hits)
    assert all(b.limit == 12 for h in hits for b in h.explanation.branches)
    assert beta.why_not("guitar street", "volcano", 3).reason == "no record has id 'volcano'"
    assert acme.why_not("guitar street", "volcano", 3, fusion="rrf", rerank=False).reason.startswith("fused below")
    idx.close()


def test_the_plain_forms_say_what_the_explanation_says(index):
    """as_dict (frameworks' metadata, --json), brief and said (agents, the CLI's table)."""
    import json

    e = index.search("guitar music on the street", 3, explain=True, fusion="rrf", rerank=True)[2].explanation
    plain = explain.as_dict(e)
    assert json.loads(json.dumps(plain)) == plain and plain["rerank"]["change"] == e.rerank.change
    assert [(b["rank"], b["score"], len(b["terms"])) for b in plain["branches"]] == \
        [(b.rank, b.score, len(b.terms)) for b in e.branches]
    short = explain.brief(e)
    assert short["fused"] == e.fusion.score and short["fused_rank"] == e.fusion.rank
    assert short["branches"][1]["terms"] == [f"{t.token}={t.contribution:.3g}" for t in e.branches[1].terms[:3]]
    said = explain.said(e)
    dense = e.branches[0]
    assert said.startswith(f"dense #{dense.rank} {dense.score:.4g} (+{dense.contribution:.3g})" if dense.rank
                           else f"dense - {dense.score:.4g} ({dense.absent})")
    assert said.endswith(f"; rerank #{e.rerank.rank_before} -> #3 ({e.rerank.change:+d})")


@pytest.mark.parametrize("opts", [{"fusion": "rrf", "rerank": False}, {"fusion": "dbsf", "rerank": False},
                                  {"fusion": "rrf", "rerank": True}, {"mode": "dense", "rerank": False},
                                  {"fusion": "rrf", "rerank": False, "boost": {"factor": "year"}},
                                  {"mode": "dense", "mmr": 0.3, "rerank": False},
                                  {"fusion": "rrf", "rerank": False, "group_by": "topic"}],
                         ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_a_write_between_the_search_and_its_explanation_is_refused(index, opts):
    """A second writer's record lands after the search's query and before the explanation's
    own queries (a hook on the engine's requests; the write is a real add): the recomputed
    stages no longer give the hits back, and the explanation is refused, not returned wrong."""
    from hybridstore import CollectionChangedError, Record

    q = "guitar music on the street"
    run, armed = index.engine.run, [True]

    def then_write(collection, request):
        out = run(collection, request)
        if armed[0] and isinstance(request, Query):
            armed[0] = False
            index.add([Record("newcomer", "Guitar music on the street: a man playing guitar on the street.",
                              {"topic": "music", "year": 2025})])
        return out

    index.search(q, 3, explain=True, **opts)  # unchanged: explained as the engine ranked
    index.engine.run = then_write
    with pytest.raises(CollectionChangedError, match="search again"):
        index.search(q, 3, explain=True, **opts)
    index.engine.run = run
    hits = index.search(q, 3, explain=True, **opts)  # the retry explains the new state
    assert "newcomer" in [h.record.id for h in hits]


@pytest.mark.parametrize("opts", GROUPED, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_a_grouping_that_reads_below_the_branch_limits_is_explained(either, opts):
    """Few groups and a shallow search (oversample=1): the core's grouping reads its branches
    deeper than a ranked search of k would, to fill k groups. Each hit is explained in the
    plan the grouping ran (its branch limits), not refused as a collection that changed."""
    index = either
    q = "guitar music on the street"
    hits = index.search(q, 4, explain=True, group_by="topic", oversample=1, **opts)
    plain = index.search(q, 4, group_by="topic", oversample=1, **opts)
    assert [h.record.id for h in hits] == [h.record.id for h in plain]
    assert {h.record.metadata["topic"] for h in hits} == {"music", "finance", "animals", "nature"}
    for rank, h in enumerate(hits, 1):
        e = h.explanation
        assert e.rank == rank and close(e.score, h.score)
        assert all(b.limit >= len(index.get()) for b in e.branches)  # the depth the grouping read
        if e.boost is not None:
            assert close(e.boost.score, h.score)
        elif e.rerank is None and e.fusion is not None:
            assert close(fused(e), h.score)


def test_an_explained_grouping_is_the_cores_on_a_grouping_engine(models, records):
    """An engine that groups natively (local mode here; a server re-runs its branches per
    round, deeper and filtered, which no stage-by-stage account follows): explain=True groups
    in the core, so the hits equal an engine without native grouping's, explanations included,
    and on this small collection the native grouping's hits too."""
    from hybridstore import HybridIndex
    from hybridstore.engine.client import ClientEngine

    from .test_search import NoNativeGroups

    explained, native = [], []
    for engine in (ClientEngine(), NoNativeGroups()):
        idx = HybridIndex("groups", models, engine=engine)
        idx.add(records)
        opts = {"group_by": "topic", "group_size": 2, "fusion": "rrf", "rerank": False}
        hits = idx.search("guitar music on the street", 3, explain=True, **opts)
        explained.append([(h.record.id, h.explanation) for h in hits])
        native.append([h.record.id for h in idx.search("guitar music on the street", 3, **opts)])
        idx.close()
    assert explained[0] == explained[1] and len(explained[0]) > 3
    assert native[0] == native[1] == [pid for pid, _ in explained[0]]
