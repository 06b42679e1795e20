"""search(boost=..., explain=True) and why_not with a boost, on the engine of $HYBRIDSTORE_ENGINE:
the explanation's score before the boost and its factors, each recomputed here from the stored
payload, give back the engine's boosted score."""

from __future__ import annotations

import json
import math

import pytest

from hybridstore import HybridIndex, explain

from .test_boost import NOTES, NOW, age_days, decay, notes

BOOST = {"recency": {"key": "published", "half_life": "30d", "now": NOW, "weight": 0.8, "missing": 0.5},
         "match": [({"source": "official"}, 1.5), ({"source": "forum"}, 0.5)],
         "factor": {"key": "popularity", "missing": 2}}
QUERY = "guitar lesson"


@pytest.fixture(scope="module", params=["embedded", "server"])
def idx(models, request):
    """The notes on this run's embedded engine, then on a server: the fake of tests/reliability
    in its scoring mode (it ranks and selects as Qdrant does, match filters included)."""
    from .reliability.fake_qdrant import FakeQdrant

    with FakeQdrant(scoring=True) as fake:
        where = {"location": ":memory:"} if request.param == "embedded" else {"url": fake.url}
        index = HybridIndex("explained_boost", models, **where)
        index.add(notes())
        yield index
        index.close()


def reference(meta: dict, curve: str = "exp") -> list[float]:
    """The boost's factors from the stored metadata: recency, each match, the numeric factor."""
    age = age_days(meta)
    return [0.2 + 0.8 * (0.5 if age is None else decay(curve, age, 30)),
            1.5 if meta["source"] == "official" else 1.0, 0.5 if meta["source"] == "forum" else 1.0,
            meta.get("popularity", 2)]


@pytest.mark.parametrize("opts", [{"mode": "hybrid", "fusion": "rrf", "rerank": False},
                                  {"mode": "hybrid", "fusion": "dbsf", "rerank": True},
                                  {"mode": "dense", "rerank": False}], ids=lambda o: "-".join(map(str, o.values())))
def test_the_boost_share_gives_back_the_engines_boosted_score(idx, opts):
    plain = idx.search(QUERY, k=len(NOTES), **opts)
    before = {h.record.id: h.score for h in plain}
    hits = idx.search(QUERY, k=len(NOTES), boost=BOOST, explain=True, **opts)
    assert [h.record.id for h in hits] == [h.record.id for h in idx.search(QUERY, k=len(NOTES), boost=BOOST, **opts)]
    for rank, h in enumerate(hits, 1):
        e, b = h.explanation, h.explanation.boost
        assert e.rank == rank and e.score == h.score and b is not None
        assert b.before == pytest.approx(before[h.record.id], rel=1e-5, abs=1e-7)
        # its rank before the boost holds a record of its score (tied records: in either order)
        assert plain[b.rank_before - 1].score == pytest.approx(b.before, rel=1e-5, abs=1e-7)
        assert [f.factor for f in b.factors] == pytest.approx(reference(h.record.metadata), rel=1e-9)
        assert [f.kind for f in b.factors] == ["recency", "match", "match", "factor"]
        assert b.factors[0].value == h.record.metadata.get("published")
        assert b.factors[3].value == h.record.metadata.get("popularity")
        assert [f.applied for f in b.factors[1:3]] == [h.record.metadata["source"] == s for s in ("official", "forum")]
        assert b.score == pytest.approx(b.before * math.prod(reference(h.record.metadata)), rel=1e-9)
        assert b.score == pytest.approx(h.score, rel=1e-4, abs=1e-6)  # the engine scores in float32
        if e.rerank is not None:  # the rerank's score and rank are before the boost
            assert e.rerank.score == b.before and e.rerank.rank == b.rank_before
        elif e.fusion is not None:
            assert e.fusion.rank == b.rank_before
        assert "of the boosted score" in e.relevance_rule


def test_the_plain_forms_carry_the_boost(idx):
    e = idx.search(QUERY, k=3, boost=BOOST, explain=True)[0].explanation
    plain = explain.as_dict(e)
    assert json.loads(json.dumps(plain)) == plain and plain["boost"]["multiplier"] == e.boost.multiplier
    short = explain.brief(e)["boost"]
    assert short is not None and short["before"] == e.boost.before and len(short["factors"]) == 4
    assert short["factors"][0].startswith("recency metadata.published=")
    said = explain.said(e)
    assert f"; boost {e.boost.before:.4g} x{e.boost.multiplier:.4g} [" in said and said.endswith(f"(#{e.boost.rank_before} -> #1)")


def test_why_not_says_the_boost_sank_or_lifted_it(idx):
    sink = {"recency": {"key": "published", "half_life": "1d", "now": NOW}}  # n5 is 400 days old: x ~0
    plain = [h.record.id for h in idx.search(QUERY, k=len(NOTES), mode="dense")]
    boosted = [h.record.id for h in idx.search(QUERY, k=len(NOTES), mode="dense", boost=sink)]
    old = "n5"
    k = boosted.index(old)  # every record above it is in the top k, n5 just below
    w = idx.why_not(QUERY, old, k, mode="dense", boost=sink)
    assert w.rank is None and w.reason.startswith("boosted below the k-th hit")
    assert "the boost sank it" in w.reason and f"#{plain.index(old) + 1} before the boost" in w.reason
    assert w.explanation.boost.factors[0].value == dict(notes()[4].metadata)["published"]
    lift = {"match": [({"source": "forum"}, 1.01)]}  # n5 alone is forum's: lifted, not to the top
    lifted = [h.record.id for h in idx.search(QUERY, k=len(NOTES), mode="dense", boost=lift)]
    assert lifted.index(old) >= 1
    w = idx.why_not(QUERY, old, lifted.index(old), mode="dense", boost=lift)
    assert w.rank is None and "the boost lifted it" in w.reason and "x1.01" in w.reason
    top = {"match": [({"source": "forum"}, 1000.0)]}
    assert idx.why_not(QUERY, old, 1, mode="dense", boost=top).rank == 1


async def test_batches_and_async_explain_the_boost_as_search_does(idx):
    one = idx.search(QUERY, k=3, boost=BOOST, explain=True)
    batch = idx.search_batch([QUERY, "jazz harmony"], k=3, boost=BOOST, explain=True)
    assert [h.explanation.boost for h in batch[0]] == [h.explanation.boost for h in one]
    assert all(h.explanation.boost is not None for h in batch[1])
    assert [h.explanation for h in await idx.asearch(QUERY, k=3, boost=BOOST, explain=True)] == \
        [h.explanation for h in one]
