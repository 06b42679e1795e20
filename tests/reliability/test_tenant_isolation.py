"""Property: whatever three tenants do, interleaved (adds with the same ids in two tenants,
deletes by foreign ids and by hostile filters, plain, grouped and batch searches, gets,
reembeds), no operation returns, changes or counts another tenant's data.

Small collections, searched exactly for every point: a tenant's answer is exactly the set of
its own records that match the filter, evaluated on a model of what each tenant stored.
"""

from __future__ import annotations

import tempfile
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qdrant_client import models as qm

from hybridstore import HybridIndex, Models, Record

TENANTS = ("acme", "globex", "initech")
IDS = ("a", "b", "c", "d")
# (filter as the caller passes it, whether a record of tenant t with group g matches it)
FILTERS = [
    (None, lambda t, g: True),
    ({"g": 0}, lambda t, g: g == 0),
    ({"tenant": "globex"}, lambda t, g: t == "globex"),
    ({"$or": [{"tenant": "globex"}, {"g": 1}]}, lambda t, g: t == "globex" or g == 1),
    ({"$not": {"tenant": "acme"}}, lambda t, g: t != "acme"),
    ({"tenant": {"$in": list(TENANTS)}, "g": {"$gte": 1}}, lambda t, g: g >= 1),
    (qm.Filter(should=[qm.FieldCondition(key="metadata.tenant", match=qm.MatchValue(value="initech"))]),
     lambda t, g: t == "initech"),
]

tenant = st.sampled_from(TENANTS)
ids = st.sets(st.sampled_from(IDS), min_size=1).map(sorted)
flt = st.integers(0, len(FILTERS) - 1)
ops = st.one_of(
    st.tuples(st.just("add"), tenant, ids, st.integers(0, 2)),
    st.tuples(st.just("delete ids"), tenant, ids),
    st.tuples(st.just("delete filter"), tenant, st.integers(1, len(FILTERS) - 1)),  # not None: all
    st.tuples(st.just("search"), tenant, flt, st.sampled_from(["plain", "grouped", "batch"])),
    st.tuples(st.just("get"), tenant, ids),
    st.tuples(st.just("reembed"), tenant),
)


def run(steps: list[tuple], seen: Counter) -> None:
    with tempfile.TemporaryDirectory() as folder, \
            HybridIndex("shared", Models(), path=folder, tenant_key="tenant", optimize_threshold=None) as idx:
        stored: dict[str, dict[str, int]] = {t: {} for t in TENANTS}  # tenant -> id -> group
        idx.create()
        for step in steps:
            kind, t = step[0], step[1]
            view = idx.tenant(t)
            if kind == "add":
                view.add([Record(i, f"note {i} of group {step[3]}", {"g": step[3]}) for i in step[2]])
                stored[t].update({i: step[3] for i in step[2]})
            elif kind == "delete ids":
                view.delete(step[2])  # ids other tenants use too: theirs must stay
                for i in step[2]:
                    stored[t].pop(i, None)
            elif kind == "delete filter":
                spec, matches = FILTERS[step[2]]
                view.delete(filter=spec)
                stored[t] = {i: g for i, g in stored[t].items() if not matches(t, g)}
            elif kind == "search":
                check_search(view, t, stored[t], step[2], step[3])
            elif kind == "get":
                got = view.get(step[2])
                assert [r.id for r in got] == [i for i in step[2] if i in stored[t]]
                assert all(r.metadata == {"g": stored[t][r.id], "tenant": t} for r in got)
            else:
                assert view.reembed() == {"dense": 0, "sparse": 0}
            seen[kind] += 1
            check_everything(idx, stored)


def check_search(view: HybridIndex, t: str, mine: dict[str, int], which: int, how: str) -> None:
    spec, matches = FILTERS[which]
    expected = {i for i, g in mine.items() if matches(t, g)}
    if how == "batch":
        results = view.search_batch(["note group", "note"], 20, filter=spec, mode="dense")
    else:
        grouping = {"group_by": "g", "group_size": 10} if how == "grouped" else {}
        results = [view.search("note group", 20, filter=spec, mode="dense", **grouping)] if mine else []
    for hits in results:
        assert all(h.record.metadata["tenant"] == t for h in hits), "another tenant's record"
        assert {h.record.id for h in hits} == expected


def check_everything(idx: HybridIndex, stored: dict[str, dict[str, int]]) -> None:
    for t, mine in stored.items():
        view = idx.tenant(t)
        got = view.get()
        assert {r.id: r.metadata["g"] for r in got} == mine and {r.metadata["tenant"] for r in got} <= {t}
        assert view.count() == len(mine)
    assert idx.count() == sum(len(m) for m in stored.values())


def test_no_operation_crosses_tenants():
    seen: Counter = Counter()

    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(steps=st.lists(ops, min_size=4, max_size=14))
    def check(steps):
        run(steps, seen)

    check()
    print(dict(seen))
    assert seen["add"] >= 40 and seen["search"] >= 20 and seen["delete filter"] >= 10
