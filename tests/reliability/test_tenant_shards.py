"""Tenants sharded by shard key on a Qdrant server (`tenant_shards`), against the fake server,
which keeps custom sharding like a server does but ignores most filters: a tenant's view that
reads only its own records there does so because every request names its shard key. Snapshots
of such a collection at the end."""

from __future__ import annotations

import asyncio

import pytest
from qdrant_client import models as qm

from hybridstore import HybridIndex, Models, Record
from hybridstore.engine import client_compile
from hybridstore.engine.requests import Count, Delete, Query, QueryBatch, Route, ScrollPage, Write
from hybridstore.errors import ConfigurationError, InvalidInputError
from hybridstore.qdrant import payload
from hybridstore.qdrant.filter_tree import Filter
from hybridstore.qdrant.query import Nearest, QueryPlan
from hybridstore.settings import SHARED_SHARD

from .fake_qdrant import FakeQdrant

POINT_PATHS = ("/points", "/points/query", "/points/query/batch", "/points/scroll", "/points/count",
               "/points/delete")


@pytest.fixture
def fake():
    with FakeQdrant() as f:
        yield f


@pytest.fixture(scope="module")
def models():
    return Models(sparse=None)  # dense only: the routing, not the ranking, is under test


def index(fake: FakeQdrant, models: Models, shards: str) -> HybridIndex:
    return HybridIndex("c", models, url=fake.url, timeout=2, tenant_key="tenant", tenant_shards=shards)


def records(tenant: str, n: int = 3) -> list[Record]:
    return [Record(f"r{i}", f"{tenant} note {i} about rivers and bridges") for i in range(n)]


def routed(fake: FakeQdrant, since: int = 0) -> list:
    """The shard key of every points request since the `since`-th body (query batches: each)."""
    keys = []
    for method, path, body in fake.bodies[since:]:
        rest = path.removeprefix("/collections/c")
        if rest in POINT_PATHS and not (method == "POST" and rest == "/points"):
            keys += [q.get("shard_key") for q in body["searches"]] if rest.endswith("batch") \
                else [body.get("shard_key")]
    return keys


def in_shard(fake: FakeQdrant, key: str) -> set[str]:
    """The tenants with points in shard `key`."""
    return {p["payload"]["metadata"]["tenant"] for p in fake.points["c"].values() if p["shard"] == key}


def points_in(fake: FakeQdrant, key: str) -> int:
    return sum(p["shard"] == key for p in fake.points["c"].values())


def test_dedicated_shards_route_every_request_of_a_view(fake, models):
    with index(fake, models, "dedicated") as idx:
        acme, zeta = idx.tenant("acme"), idx.tenant("zeta")
        acme.add(records("acme"))
        zeta.add(records("zeta", 2))
        assert fake.shards["c"] == {SHARED_SHARD: "active", "acme": "active", "zeta": "active"}
        assert in_shard(fake, "acme") == {"acme"} and in_shard(fake, "zeta") == {"zeta"}
        since = len(fake.bodies)
        # the fake ignores the tenant filter of a search: only the shard key keeps zeta out
        assert {h.record.metadata["tenant"] for h in acme.search("rivers", k=10)} == {"acme"}
        assert [len(r) for r in acme.search_batch(["rivers", "bridges"], k=10)] == [3, 3]
        assert acme.count() == 3 and zeta.count() == 2
        assert [r.id for r in zeta.get(["r0", "r1", "r2"])] == ["r0", "r1"]
        zeta.delete(["r0"])
        want = {"target": "acme", "fallback": SHARED_SHARD}
        keys = routed(fake, since)
        assert len(keys) >= 6 and set(map(str, keys)) == {str(want), str({**want, "target": "zeta"})}
        assert len(idx.search("rivers", k=10)) == 4  # the whole index reads every shard
        zeta.drop_tenant()
        assert points_in(fake, "zeta") == 0 and points_in(fake, "acme") == 3


def test_a_view_that_only_reads_makes_no_shard(fake, models):
    with index(fake, models, "dedicated") as idx:
        idx.tenant("acme").add(records("acme"))
        assert idx.tenant("nobody").search("rivers") == [] and idx.tenant("nobody").count() == 0
        assert "nobody" not in fake.shards["c"]


def test_writes_outside_a_tenant_are_refused_before_anything_is_written(fake, models):
    with index(fake, models, "dedicated") as idx:
        idx.tenant("acme").add(records("acme"))
        with pytest.raises(InvalidInputError, match=r"sharded by tenant.*index.tenant\('name'\)"):
            idx.add([Record("x", "a record of no tenant")])
        with pytest.raises(InvalidInputError, match=r"names the tenant 'acme'.*index.tenant\('acme'\).add"):
            idx.add([Record("x", "a record for a tenant, past its view", {"tenant": "acme"})])
        assert len(fake.points["c"]) == 3


def test_tiered_tenants_share_a_shard_until_promoted(fake, models):
    with index(fake, models, "tiered") as idx:
        acme, zeta = idx.tenant("acme"), idx.tenant("zeta")
        acme.add(records("acme"))
        zeta.add(records("zeta", 2))
        assert fake.shards["c"] == {SHARED_SHARD: "active"}
        assert in_shard(fake, SHARED_SHARD) == {"acme", "zeta"}
        with pytest.raises(InvalidInputError, match="promote\\(\\) it first"):
            acme.promote(finish=True)
        acme.promote()
        created = [b for m, p, b in fake.bodies if (m, p) == ("PUT", "/collections/c/shards")]
        assert created[-1] == {"shard_key": "acme", "initial_state": "Partial"}
        move = [b for m, p, b in fake.bodies if p == "/collections/c/cluster"][-1]["replicate_points"]
        assert (move["from_shard_key"], move["to_shard_key"]) == (SHARED_SHARD, "acme")
        assert move["filter"]["must"][0] == {"key": "metadata.tenant", "match": {"value": "acme"}}
        acme.promote(finish=True)  # the fake's transfer is done at once
        assert in_shard(fake, SHARED_SHARD) == {"zeta"} and points_in(fake, "acme") == 3
        assert sorted(h.record.id for h in acme.search("rivers", k=10)) == ["r0", "r1", "r2"]
        assert {h.record.metadata["tenant"] for h in zeta.search("rivers", k=10)} == {"zeta"}
        acme.add([Record("r9", "acme note about a new bridge")])
        assert points_in(fake, "acme") == 4 and acme.count() == 4
        acme.drop_tenant()
        assert points_in(fake, "acme") == 0 and zeta.count() == 2


def test_async_twins_route_too(fake, models):
    async def main():
        async with index(fake, models, "dedicated") as idx:
            view = idx.tenant("acme")
            await view.aadd(records("acme"))
            hits = await view.asearch("rivers", k=10)
            await view.adrop_tenant()
            return hits

    hits = asyncio.run(main())
    assert len(hits) == 3 and set(map(str, routed(fake))) == {str({"target": "acme", "fallback": SHARED_SHARD})}


def test_promote_is_for_tiered_views(fake, models):
    with index(fake, models, "dedicated") as idx, pytest.raises(InvalidInputError, match="tiered"):
        idx.tenant("acme").promote()


def test_settings_refuse_shards_without_a_server(tmp_path):
    with pytest.raises(ConfigurationError, match="tenant_shards needs tenant_key"):
        HybridIndex("c", tenant_shards="dedicated")
    with pytest.raises(ConfigurationError, match="use one of"):
        HybridIndex("c", tenant_key="tenant", tenant_shards="per-tenant")
    for engine in ("edge", "local"):
        with pytest.raises(ConfigurationError, match="needs a Qdrant server"):
            HybridIndex("c", path=tmp_path / engine, engine=engine, tenant_key="t", tenant_shards="tiered")
        HybridIndex("c", path=tmp_path / engine, engine=engine).close()  # the folder was let go
    with FakeQdrant() as fake, index(fake, Models(sparse=None), "tiered") as idx, \
            pytest.raises(ConfigurationError, match="name of the shared shard"):
        idx.tenant(SHARED_SHARD)


def test_every_routed_request_compiles_with_its_shard_key():
    route = Route("acme", SHARED_SHARD)
    want = qm.ShardKeyWithFallback(target="acme", fallback=SHARED_SHARD)
    point = payload.Point("p", {"dense": [0.1, 0.2]}, {"text": "t"})
    plan = QueryPlan(Nearest("dense", "dense", [0.1, 0.2], 3), 3)
    ops = {type(r).__name__: client_compile.COMPILE[type(r)]("c", r) for r in [
        Write([point], shard=route), Count(None, shard=route), ScrollPage(None, shard=route),
        Delete(Filter(), shard=route), Query(plan, shard=route), QueryBatch([plan], shard=route)]}
    for name in ("Write", "Count", "ScrollPage", "Delete", "Query"):
        assert ops[name][1]["shard_key_selector"] == want, name
    assert ops["QueryBatch"][1]["requests"][0].shard_key == want
    grouped = client_compile.COMPILE[Query]("c", Query(plan, "doc_id", shard=route))
    merged = client_compile.COMPILE[Write]("c", Write([point], merge=True, shard=route))
    assert grouped[1]["shard_key_selector"] == want
    ops_sent = merged[1]["update_operations"]
    assert next(getattr(o, "update_vectors", None) or o.set_payload for o in ops_sent).shard_key == want
    assert ops_sent[1].set_payload.shard_key == want
    plain = client_compile.COMPILE[Count]("c", Count(None, shard=Route(SHARED_SHARD)))
    assert plain[1]["shard_key_selector"] == SHARED_SHARD


# -- snapshots of a collection sharded by tenant: every tenant in the file with its shard key,
# restored into the same shard keys, each tenant's view reading only its own records

def layout(fake: FakeQdrant) -> dict[str, set[str]]:
    """Each shard key's tenants."""
    return {key: in_shard(fake, key) for key in fake.shards["c"]}


@pytest.mark.parametrize("shards", ["dedicated", "tiered"])
def test_every_tenant_is_restored_into_its_own_shard_key(fake, models, tmp_path, shards):
    with index(fake, models, shards) as idx:
        idx.tenant("acme").add(records("acme"))
        idx.tenant("zeta").add(records("zeta", 2))
        if shards == "tiered":  # acme in a shard of its own, zeta in the shared one
            idx.tenant("acme").promote()
            idx.tenant("acme").promote(finish=True)
        keys, before = dict(fake.shards["c"]), layout(fake)
        assert idx.snapshot(tmp_path / "c.snap")["points"] == 5
        idx.drop()
    assert HybridIndex.restore(tmp_path / "c.snap", "c", url=fake.url, timeout=2) == {"points": 5}
    assert fake.shards["c"] == keys and layout(fake) == before
    assert before[SHARED_SHARD] == ({"zeta"} if shards == "tiered" else set())
    with index(fake, models, shards) as back:
        acme, zeta = back.tenant("acme"), back.tenant("zeta")
        # the fake ignores the tenant filter of a search: only the shard key keeps the other out
        assert {h.record.metadata["tenant"] for h in acme.search("rivers", k=10)} == {"acme"}
        assert {h.record.metadata["tenant"] for h in zeta.search("rivers", k=10)} == {"zeta"}
        assert acme.count() == 3 and zeta.count() == 2 and back.count() == 5


def test_async_twins(fake, models, tmp_path):
    async def main() -> dict[str, int]:
        async with index(fake, models, "dedicated") as idx:
            await idx.tenant("acme").aadd(records("acme"))
            await idx.asnapshot(tmp_path / "c.snap")
            await idx.adrop()
        return await HybridIndex.arestore(tmp_path / "c.snap", "c", url=fake.url, timeout=2)

    assert asyncio.run(main()) == {"points": 3}
    assert layout(fake) == {SHARED_SHARD: set(), "acme": {"acme"}}


def test_a_sharded_snapshot_is_refused_by_an_embedded_engine_before_its_folder_is_made(fake, models, tmp_path):
    with index(fake, models, "dedicated") as idx:
        idx.tenant("acme").add(records("acme"))
        idx.snapshot(tmp_path / "c.snap")
    for engine in ("edge", "local"):
        with pytest.raises(ConfigurationError, match=r"sharded by tenant \(shard keys .*acme\).*Qdrant server"):
            HybridIndex.restore(tmp_path / "c.snap", "c", path=str(tmp_path / engine), engine=engine)
        assert not (tmp_path / engine).exists()


def test_an_unsharded_snapshot_is_refused_by_a_target_sharded_by_tenant(fake, models, tmp_path):
    with HybridIndex("c", models, url=fake.url, timeout=2, tenant_key="tenant") as idx:
        idx.tenant("acme").add(records("acme"))
        idx.snapshot(tmp_path / "c.snap")
        idx.drop()
    with pytest.raises(ConfigurationError, match="not sharded by tenant: restore it without tenant_shards="):
        HybridIndex.restore(tmp_path / "c.snap", "c", url=fake.url, timeout=2, tenant_key="tenant",
                            tenant_shards="dedicated")
    assert "c" not in fake.collections
    assert HybridIndex.restore(tmp_path / "c.snap", "c", url=fake.url, timeout=2) == {"points": 3}


def test_a_sharded_collection_is_snapshot_only_through_an_index_that_knows_its_shards(fake, models, tmp_path):
    with index(fake, models, "dedicated") as idx:
        idx.tenant("acme").add(records("acme"))
    with HybridIndex("c", models, url=fake.url, timeout=2, tenant_key="tenant") as plain, \
            pytest.raises(ConfigurationError, match="sharded by tenant: snapshot it through an index opened with"):
        plain.snapshot(tmp_path / "c.snap")
    assert not list(tmp_path.iterdir())

