"""`HybridIndex.copy_to`: a collection moved between engines with its vectors, payloads and
signature, nothing embedded; bounded pages, resumed after a failure, verified. Embedded to
embedded for real (edge and local mode), a server through the fault-injecting fake."""

from __future__ import annotations

import pytest

from hybridstore import HybridIndex, Models, Record
from hybridstore.engine.requests import Write
from hybridstore.errors import ConfigurationError, EngineError, SchemaMismatchError
from hybridstore.qdrant import payload

from .conftest import TEXTS
from .reliability.fake_qdrant import FakeQdrant

QUERIES = ["guitar music on stage", "central bank interest rates", "volcanic ash"]


@pytest.fixture
def source(tmp_path, models, records):
    with HybridIndex("src", models, path=tmp_path / "a", engine="edge") as idx:
        idx.add(records)
        yield idx


def ranked(idx: HybridIndex, **options) -> list:
    return [[(h.record.id, round(h.score, 5)) for h in idx.search(q, 5, **options)] for q in QUERIES]


def test_edge_to_edge_keeps_vectors_payload_and_signature(tmp_path, models, source):
    with HybridIndex("dst", models, path=tmp_path / "b", engine="edge") as target:
        calls = []
        assert source.copy_to(target, batch=3, progress=calls.append) == \
            {"points": len(TEXTS), "copied": len(TEXTS), "skipped": 0, "verified": len(TEXTS)}
        assert calls == [3, 6, 8]
        assert target.stats["embedded"] == 0  # nothing embedded: the vectors came along
        assert ranked(target) == ranked(source)
        assert ranked(target, rerank=True) == ranked(source, rerank=True)
        assert target.get(["volcano"])[0] == source.get(["volcano"])[0]
        assert target.info()["signature_recorded"] is True
        target.add([Record("volcano", "A different text under the same id.")])
        again = source.copy_to(target, batch=3)  # the page holding the changed point is rewritten
        assert again["copied"] in (2, 3) and again["skipped"] == len(TEXTS) - again["copied"]  # one page
        assert target.get(["volcano"])[0] == source.get(["volcano"])[0]
        volcano = payload.point_id("volcano")  # a vector changed behind the copy, payload as it was
        target.engine.run("dst", Write([payload.Point(volcano, {"dense": [1.0] + [0.0] * 383}, {})], merge=True))
        with pytest.raises(EngineError, match=f"failed verification: point {volcano} has another 'dense'"):
            source.copy_to(target)  # every page looks copied: skipped, and the sample tells
        assert source.copy_to(target, resume=False)["copied"] == len(TEXTS)  # rewritten
        assert ranked(target) == ranked(source)


def test_local_mode_to_edge(tmp_path, models, records):
    with HybridIndex("c", models, path=tmp_path / "local", engine="local") as old, \
            HybridIndex("c", models, path=tmp_path / "edge", engine="edge", storage="large") as new:
        old.add(records)
        assert old.copy_to(new, verify=3)["copied"] == len(TEXTS)
        mine, theirs = ranked(new), ranked(old)  # other engine: the same order, scores to float error
        assert [[i for i, _ in q] for q in mine] == [[i for i, _ in q] for q in theirs]
        assert [s for q in mine for _, s in q] == pytest.approx([s for q in theirs for _, s in q], rel=1e-5)
        assert new.info()["storage_settings"]["quantize"] == "int8"


def test_a_failed_copy_resumes_and_refusals_lose_nothing(tmp_path, models, source):
    with HybridIndex("dst", models, path=tmp_path / "b", engine="edge") as target:
        def stop(n):
            if n >= 6:
                raise KeyboardInterrupt  # cut short after two pages
        with pytest.raises(KeyboardInterrupt):
            source.copy_to(target, batch=3, progress=stop)
        assert target.count() == 6
        assert source.copy_to(target, batch=3) == {"points": 8, "copied": 2, "skipped": 6, "verified": 8}
        with pytest.raises(ConfigurationError, match="same collection"):
            source.copy_to(source)
        with pytest.raises(ConfigurationError, match="not a tenant view"):
            source.copy_to(HybridIndex("t", models, engine=target.engine, tenant_key="t").tenant("x"))
        with pytest.raises(ConfigurationError, match="batch=0"):
            source.copy_to(target, batch=0)
    other = Models(sparse="prithivida/Splade_PP_en_v1")  # another sparse model: the target refuses it
    with HybridIndex("dst2", other, path=tmp_path / "c", engine="edge") as target:
        with pytest.raises(SchemaMismatchError):
            source.copy_to(target)
        assert target.info()["exists"] is False  # the empty collection it made is gone again
    assert source.count() == len(TEXTS)


def test_edge_to_server_and_back_through_faults(tmp_path, models, source):
    with FakeQdrant() as fake:
        with HybridIndex("c", models, url=fake.url, timeout=2, shards=2, replicas=2) as server:
            fake.fail_after("/points", 1, "400", method="PUT")  # the second page's write fails
            with pytest.raises(EngineError):
                source.copy_to(server, batch=3)
            fake.fail("/points", 1, "503", method="PUT")  # retried by the client
            assert source.copy_to(server, batch=3) == {"points": 8, "copied": 5, "skipped": 3, "verified": 8}
        create = next(b for m, p, b in fake.bodies if m == "PUT" and p == "/collections/c")
        assert (create["shard_number"], create["replication_factor"]) == (2, 2)
        upserts = [b for m, p, b in fake.bodies if m == "PUT" and p == "/collections/c/points"]
        assert max(len(b["points"]) for b in upserts) <= 3  # bounded pages
        with HybridIndex("c", models, url=fake.url, timeout=2) as server, \
                HybridIndex("back", models, path=tmp_path / "back", engine="edge") as back:
            assert server.copy_to(back)["copied"] == len(TEXTS)
            assert ranked(back) == ranked(source)


def test_shards_and_replicas_need_a_server(tmp_path, models):
    with pytest.raises(ConfigurationError, match="need a Qdrant server"):
        HybridIndex("c", models, path=tmp_path, shards=2)
    with pytest.raises(ConfigurationError, match="positive integer"):
        HybridIndex("c", models, path=tmp_path, replicas=0)


def test_acopy_to_is_the_async_twin(tmp_path, models, source):
    import asyncio

    async def main():
        with HybridIndex("dst", models, path=tmp_path / "b", engine="edge") as target:
            assert await source.acopy_to(target, batch=3) == \
                {"points": len(TEXTS), "copied": len(TEXTS), "skipped": 0, "verified": len(TEXTS)}
            assert ranked(target) == ranked(source)
            assert (await source.acopy_to(target, batch=3))["skipped"] == len(TEXTS)  # resumed: all held
        with FakeQdrant() as fake:  # a server, through qdrant-client's async client
            async with HybridIndex("c", models, url=fake.url, timeout=2) as server:
                assert (await source.acopy_to(server, batch=5))["copied"] == len(TEXTS)
                assert await server.aget(["volcano"]) == source.get(["volcano"])  # the fake does not rank
        other = Models(sparse="prithivida/Splade_PP_en_v1")
        with HybridIndex("dst2", other, path=tmp_path / "c", engine="edge") as target:
            with pytest.raises(SchemaMismatchError):
                await source.acopy_to(target)
            assert target.info()["exists"] is False  # the collection it made is dropped again

    asyncio.run(main())


def test_copy_into_another_collection_of_the_same_folder(tmp_path, models, records):
    """The target on the source's folder (held by the source) writes through the source's
    engine, as the command line's copy does; on the engine `make test` selects."""
    folder = str(tmp_path / "one")
    with HybridIndex("src", models, path=folder) as src:
        src.add(records)
        target = HybridIndex("dst", models, path=folder)
        assert src.copy_to(target, batch=3)["copied"] == len(TEXTS)
        assert target.engine is src.engine and ranked(target) == ranked(src)
        with pytest.raises(ConfigurationError, match="same collection"):
            src.copy_to(HybridIndex("src", models, path=folder))
    with HybridIndex("dst", models, path=folder) as again:  # stored in the folder, on its own
        assert again.count() == len(TEXTS) and again.get(["volcano"]) == records[-1:]
