"""Snapshots of a collection sharded by tenant (`tenant_shards`, a Qdrant server: the fake, which
keeps custom sharding as a server does but ignores most filters): every tenant in the file with
its shard key, restored into the same shard keys, each tenant's view reading only its own."""

from __future__ import annotations

import asyncio

import pytest

from hybridstore import HybridIndex, Models
from hybridstore.errors import ConfigurationError
from hybridstore.settings import SHARED_SHARD

from .fake_qdrant import FakeQdrant
from .test_tenant_shards import in_shard, index, records


@pytest.fixture
def fake():
    with FakeQdrant() as f:
        yield f


@pytest.fixture(scope="module")
def models():
    return Models(sparse=None)


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
