"""search(boost=...): the engine's formula query against a reference computed here from the
stored payloads and the unboosted scores. Runs on the engine `make test` selects (edge, then
local mode)."""

import asyncio
import datetime as dt
import math
import threading
import warnings

import pytest

from hybridstore import (
    BoostKeyWarning,
    CollectionNotFoundError,
    HybridIndex,
    InvalidInputError,
    Models,
    Record,
)

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAY = 86400.0
# (id, text, days before NOW it was published (None: no date), source, popularity)
NOTES = [
    ("n1", "The guitar lesson covers chords and strumming.", 2, "blog", 3),
    ("n2", "A guitar lesson on fingerpicking for beginners.", 40, "official", 10),
    ("n3", "Guitar lesson: tuning the strings by ear.", 95, "official", None),
    ("n4", "Advanced guitar lesson on jazz harmony.", None, "blog", 1),
    ("n5", "Guitar lesson recap and practice plan for the week.", 400, "forum", 7),
]


def notes(tenant: str | None = None) -> list[Record]:
    out = []
    for rid, text, days, source, pop in NOTES:
        meta: dict = {"source": source}
        if days is not None:
            when = NOW - dt.timedelta(days=days)
            meta["published"] = when.isoformat()
            meta["ts"] = when.timestamp()
        if pop is not None:
            meta["popularity"] = pop
        if tenant:
            meta["tenant"] = tenant
        out.append(Record(rid, text, meta))
    return out


@pytest.fixture(scope="module")
def index():
    idx = HybridIndex("boost", Models(), location=":memory:")
    idx.add(notes())
    yield idx
    idx.close()


def age_days(meta: dict) -> float | None:
    return None if "published" not in meta else (NOW - dt.datetime.fromisoformat(meta["published"])).total_seconds() / DAY


def decay(curve: str, age: float, half_life: float) -> float:
    if curve == "exp":
        return 0.5 ** (age / half_life)
    if curve == "linear":
        return max(0.0, 1.0 - 0.5 * age / half_life)
    return math.exp(math.log(0.5) * (age / half_life) ** 2)


def unboosted(idx) -> dict[str, tuple[float, dict]]:
    """Every record's plain score and stored metadata (k covers the whole collection)."""
    return {h.record.id: (h.score, h.record.metadata) for h in idx.search("guitar lesson", k=len(NOTES))}


def assert_matches(hits, expected: dict[str, float]) -> None:
    got = {h.record.id: h.score for h in hits}
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)  # float32 in the engine
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)  # the reference's order (ties, e.g. at 0, in any order)


@pytest.mark.parametrize("curve", ["exp", "linear", "gauss"])
def test_recency_matches_a_reference_from_the_stored_dates(index, curve):
    plain = unboosted(index)
    hits = index.search("guitar lesson", k=len(NOTES), boost={"recency": {
        "key": "published", "half_life": "30d", "curve": curve, "now": NOW}})
    expected = {i: s * (1.0 if age_days(m) is None else decay(curve, age_days(m), 30)) for i, (s, m) in plain.items()}
    assert_matches(hits, expected)
    assert hits[0].record.id == "n4" or hits[0].record.id == "n1"  # undated (1.0 by default) or freshest


def test_epoch_seconds_decay_as_the_same_dates_do(index):
    spec = {"key": "published", "half_life": "2w", "now": NOW.isoformat()}
    as_dates = index.search("guitar lesson", k=5, boost={"recency": spec})
    as_numbers = index.search("guitar lesson", k=5, boost={"recency": {**spec, "key": "ts", "stored_as": "epoch_seconds"}})
    assert [(h.record.id, pytest.approx(h.score, rel=1e-4)) for h in as_numbers] == \
        [(h.record.id, h.score) for h in as_dates]


def test_matches_factor_and_weight_multiply_as_documented(index):
    plain = unboosted(index)
    hits = index.search("guitar lesson", k=5, boost={
        "recency": {"key": "published", "half_life": "30d", "now": NOW, "weight": 0.4, "missing": 0.5},
        "match": [({"source": "official"}, 1.5), ({"source": {"$in": ["forum"]}}, 0.5)],
        "factor": {"key": "popularity", "missing": 2}})

    def reference(score: float, meta: dict) -> float:
        age = age_days(meta)
        recency = 0.5 if age is None else decay("exp", age, 30)
        weights = {"official": 1.5, "forum": 0.5}.get(meta["source"], 1.0)
        return score * (0.6 + 0.4 * recency) * weights * meta.get("popularity", 2)

    assert_matches(hits, {i: reference(s, m) for i, (s, m) in plain.items()})


def test_records_lacking_the_key_get_the_default_and_are_never_dropped(index):
    plain = unboosted(index)
    recency = {"key": "published", "half_life": "30d", "now": NOW}
    kept = {h.record.id: h.score for h in index.search("guitar lesson", k=5, boost={"recency": recency})}
    assert set(kept) == set(plain) and kept["n4"] == pytest.approx(plain["n4"][0], rel=1e-5)  # x 1
    zeroed = {h.record.id: h.score for h in index.search("guitar lesson", k=5, boost={"recency": {**recency, "missing": 0}})}
    assert zeroed["n4"] == 0.0 and set(zeroed) == set(plain)
    factor = {h.record.id: h.score for h in index.search("guitar lesson", k=5, boost={"factor": "popularity"})}
    assert factor["n3"] == pytest.approx(plain["n3"][0], rel=1e-5)  # no popularity: x 1
    with pytest.warns(BoostKeyWarning, match=r"'metadata.no_such_key', which no record this search selects holds"):
        absent_key = index.search("guitar lesson", k=5, boost={"factor": "no_such_key"})
    assert {h.record.id: h.score for h in absent_key} == pytest.approx({i: s for i, (s, _) in plain.items()}, rel=1e-5)


def test_a_key_no_record_holds_is_said_and_a_key_some_record_holds_is_not(index):
    """A misspelt key ranks nothing (every record gets the missing factor): a BoostKeyWarning
    says so, naming the key and the factor (1 - weight + weight * missing). A key held by one
    hit of two, or by records the boost ranked below the only hit, warns of nothing."""
    recency = {"key": "publshed", "half_life": "30d", "now": NOW, "missing": 0.2, "weight": 0.5}
    with pytest.warns(BoostKeyWarning, match=r"'metadata.publshed'.*factor of a record without it \(0.6\)"):
        index.search("guitar lesson", k=5, boost={"recency": recency})
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoostKeyWarning)
        index.search("guitar lesson", k=5, boost={"recency": {**recency, "key": "published"}, "factor": "popularity"})
        official = index.search("guitar lesson", k=5, filter={"source": "official"}, boost={"factor": "popularity"})
        assert {h.record.id for h in official} == {"n2", "n3"}  # n2 holds it, n3 does not
        fresh = {"key": "published", "half_life": "1h", "now": NOW}  # every dated note decays below n4's x1
        blog = index.search("guitar lesson", k=1, filter={"source": "blog"}, boost={"recency": fresh})
        assert [h.record.id for h in blog] == ["n4"]  # undated; n1, dated, ranked below it


def test_a_boost_respects_filters_and_tenant_views(tmp_path):
    boost = {"match": [({"source": "forum"}, 100.0)], "recency": {"key": "published", "half_life": "30d"}}
    with HybridIndex("shared", Models(), path=str(tmp_path), tenant_key="tenant") as idx:
        for name in ("acme", "globex"):
            idx.tenant(name).add(notes())
        hits = idx.tenant("acme").search("guitar lesson", k=10, boost=boost)
        assert len(hits) == len(NOTES) and {h.record.metadata["tenant"] for h in hits} == {"acme"}
        filtered = idx.tenant("globex").search("guitar lesson", k=10, filter={"source": "official"}, boost=boost)
        assert {h.record.id for h in filtered} == {"n2", "n3"}
        assert {h.record.metadata["tenant"] for h in filtered} == {"globex"}


def test_relevance_stays_within_0_and_1(index):
    hits = index.search("guitar lesson", k=5, boost={"factor": "popularity", "match": [({"source": "blog"}, 50.0)]})
    assert hits[0].score > 2 and all(0.0 <= h.relevance <= 1.0 for h in hits)
    assert hits[0].relevance == 1.0  # clamped: factors above 1 can reach it
    zero = index.search("guitar lesson", k=5, boost={"recency": {"key": "published", "half_life": "1s", "missing": 0}})
    assert all(0.0 <= h.relevance <= 1.0 for h in zero)


def test_a_boost_wraps_the_rerank_and_batches(models):
    with HybridIndex("late", models, location=":memory:") as idx:
        idx.add(notes())
        plain = {h.record.id: h.score for h in idx.search("guitar lesson", k=5)}  # reranked by late interaction
        boost = {"match": [({"source": "forum"}, 3.0)]}
        hits = idx.search("guitar lesson", k=5, boost=boost)
        assert {h.record.id: h.score for h in hits} == pytest.approx(
            {i: s * (3.0 if i == "n5" else 1.0) for i, s in plain.items()}, rel=1e-4)
        batch = idx.search_batch(["guitar lesson"], k=5, boost=boost)
        assert [h.record.id for h in batch[0]] == [h.record.id for h in hits]


async def test_async_search_boosts_alike(index):
    boost = {"recency": {"key": "published", "half_life": "30d", "now": NOW}}
    got = await index.asearch("guitar lesson", k=5, boost=boost)
    assert [h.record.id for h in got] == [h.record.id for h in index.search("guitar lesson", k=5, boost=boost)]


@pytest.mark.parametrize("spec, words", [
    ("recent", "non-empty dict"),
    ({"recent": {}}, "unknown boost key(s) ['recent']"),
    ({"recency": {"key": "published"}}, "'key' and 'half_life'"),
    ({"recency": {"key": "published", "half_life": 30}}, "a duration like '30d'"),
    ({"recency": {"key": "published", "half_life": "0d"}}, "above 0"),
    ({"recency": {"key": "published", "half_life": "30d", "curve": "cubic"}}, "use one of exp, linear, gauss"),
    ({"recency": {"key": "published", "half_life": "30d", "weight": 1.5}}, "weight must be in (0, 1]"),
    ({"recency": {"key": "published", "half_life": "30d", "missing": "none"}}, "missing must be a finite number"),
    ({"recency": {"key": "published", "half_life": "30d", "now": "yesterday"}}, "datetime or an ISO string"),
    ({"recency": {"key": "published", "half_life": "30d", "stored_as": "ms"}}, "datetime, epoch_seconds"),
    ({"recency": {"key": "p", "half_life": "1d", "halflife": "2d"}}, "unknown recency key(s) ['halflife']"),
    ({"match": {"source": "official"}}, "(filter dict, weight) pairs"),
    ({"match": [({"source": "official"}, 0)]}, "must be > 0"),
    ({"match": [({"source": "official"}, True)]}, "must be a finite number"),
    ({"match": [({"source": {"$near": 1}}, 2.0)]}, "unknown operator '$near'"),
    ({"factor": 3}, "factor takes a metadata key"),
    ({"factor": "a..b"}, "cannot be read as a path"),
    ({"factor": "d", "recency": {"key": "d", "half_life": "1d"}}, "read the same key"),
])
def test_wrong_boosts_are_refused_before_any_request(spec, words):
    with HybridIndex("never-written", Models(), location=":memory:") as idx:
        with pytest.raises(InvalidInputError) as refused:
            idx.search("guitar", boost=spec)  # a request would say the collection is not there
        assert words in str(refused.value) and "boost" in str(refused.value)
        with pytest.raises(CollectionNotFoundError):
            idx.search("guitar", boost={"factor": "popularity"})


def test_mmr_refuses_a_boost(index):  # explain covers one: tests/test_explain_boost.py
    with pytest.raises(InvalidInputError, match="mmr and boost"):
        index.search("guitar", mmr=0.5, boost={"factor": "popularity"})


@pytest.mark.parametrize("spec, key, bad", [
    ({"factor": "popularity"}, "metadata.popularity", {"x2": "many", "x3": [1, 2]}),
    ({"recency": {"key": "published", "half_life": "30d"}}, "metadata.published", {"x2": "last week", "x3": 5}),
    ({"recency": {"key": "ts", "half_life": "30d", "stored_as": "epoch_seconds"}}, "metadata.ts",
     {"x3": "2026-01-01"}),
])
def test_stored_values_a_boost_cannot_read_are_named(spec, key, bad):
    """Every engine fails such a query (Qdrant Edge without a reason): the error names the key,
    the records and the fix."""
    meta = {"popularity": 2, "published": "2026-01-01T00:00:00Z", "ts": 1767225600}
    name = key.split(".")[1]
    records = [Record("x1", "Guitar lesson one.", meta, doc_id="d1"),
               *(Record(i, f"Guitar lesson {i}.", {**meta, name: v}, doc_id=i) for i, v in bad.items())]
    with HybridIndex("typed", Models(), location=":memory:") as idx:
        idx.add(records)
        with pytest.raises(InvalidInputError) as refused:
            idx.search("guitar lesson", k=3, boost=spec)
        message = str(refused.value)
        assert repr(key) in message and all(repr(i) in message for i in bad) and "'x1'" not in message
        with pytest.raises(InvalidInputError, match="record"):
            idx.search("guitar lesson", k=3, boost=spec, group_by="doc_id")
        served = idx.search("guitar lesson", k=3, boost=spec, ids=["x1"])  # a selection without them
        assert [h.record.id for h in served] == ["x1"]
        assert idx.count() == 1 + len(bad)  # nothing lost


def test_group_by_and_score_threshold_see_the_boosted_scores(index):
    plain = unboosted(index)
    boosted = {i: s * m.get("popularity", 1) for i, (s, m) in plain.items()}
    grouped = index.search("guitar lesson", k=3, group_by="source", boost={"factor": "popularity"})
    best = {}
    for i, (_, m) in plain.items():
        if m["source"] not in best or boosted[i] > boosted[best[m["source"]]]:
            best[m["source"]] = i
    assert {h.record.id for h in grouped} == set(best.values())
    line = sorted(boosted.values())[2]
    above = index.search("guitar lesson", k=5, boost={"factor": "popularity"}, score_threshold=line)
    assert {h.record.id for h in above} == {i for i, s in boosted.items() if s >= line}


def test_a_server_is_sent_a_formula_query_its_schema_accepts():
    from hybridstore.engine.client import ClientEngine

    from .reliability.fake_qdrant import FakeQdrant

    with FakeQdrant() as fake, HybridIndex("served", Models(), engine=ClientEngine(url=fake.url, timeout=5)) as idx:
        idx.add(notes())
        idx.search("guitar lesson", k=2, boost={"recency": {"key": "published", "half_life": "30d", "missing": 0.2},
                                                "match": [({"source": "official"}, 1.3)], "factor": "popularity"})
        query = next(b for method, path, b in fake.bodies if path.endswith("/points/query"))
        formula = query["query"]["formula"]
        assert formula["mult"][0] == "$score" and "exp_decay" in formula["mult"][1]["sum"][0]
        assert set(query["query"]["defaults"]) == {"metadata.published", "metadata.popularity"}
        assert query["limit"] == 2 and query["prefetch"][0]["limit"] == 8  # every candidate reaches the boost
    assert not fake.schema_errors


@pytest.mark.filterwarnings("ignore:Qdrant client version")  # qdrant-client's own check of the old version
def test_a_boost_on_a_server_older_than_1_14_is_refused_before_its_query():
    """The version is read once per engine, at the first boost; no formula query reaches the server."""
    from hybridstore.errors import ConfigurationError

    from .reliability.fake_qdrant import FakeQdrant

    boost = {"factor": "popularity"}
    with FakeQdrant() as fake:
        fake.version = "1.13.2"
        with HybridIndex("served", Models(), url=fake.url, timeout=5) as idx:
            idx.add(notes())
            assert [h.record.id for h in idx.search("guitar lesson", k=2)]  # no boost: no version needed
            for thread in threading.enumerate():  # qdrant-client's own version checks, at its clients' start
                if "_check_compatibility" in thread.name:
                    thread.join(10)
            since = len(fake.requests)
            for _ in range(2):
                with pytest.raises(ConfigurationError, match=r"needs a Qdrant server 1\.14 or later .*runs 1\.13\.2"):
                    idx.search("guitar lesson", k=2, boost=boost)
            with pytest.raises(ConfigurationError, match=r"runs 1\.13\.2"):
                asyncio.run(idx.asearch("guitar lesson", k=2, boost=boost))
            with pytest.raises(ConfigurationError, match=r"runs 1\.13\.2"):
                idx.search_batch(["guitar lesson", "piano"], k=2, boost=boost)
            asked = fake.requests[since:]
            assert asked == [("GET", "/")]  # once, cached; no query sent
        fake.version = "1.14.0"
        with HybridIndex("served", Models(), url=fake.url, timeout=5) as idx:
            assert len(idx.search("guitar lesson", k=2, boost=boost)) == 2
