"""Remote faults: retried with bounded backoff, then a clear error naming what was written.

No Qdrant server exists here, so a fake of its REST API on 127.0.0.1 (fake_qdrant.py) fails
on purpose; qdrant-client itself is real and talks HTTP to it, sync and async.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from hybridstore import EngineError, HybridIndex, Models, Record, WriteError
from hybridstore.engine import ClientEngine
from hybridstore.qdrant.payload import point_id

from .fake_qdrant import FakeQdrant

SECRET = "sk-never-show-this-3f9a"
pytestmark = pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")


@pytest.fixture(scope="module")
def models():
    return Models()


INJECTED = {"faults": 0}


@pytest.fixture
def fake():
    with FakeQdrant(delay_s=1.5) as f:
        yield f
    INJECTED["faults"] += f.injected


def recs(n: int, tag: str = "r") -> list[Record]:
    return [Record(f"{tag}{i}", f"note {i} about {tag} and rivers", {"i": i}) for i in range(n)]


def index(fake_or_url, models, **engine) -> HybridIndex:
    url = fake_or_url if isinstance(fake_or_url, str) else fake_or_url.url
    eng = ClientEngine(url=url, api_key=SECRET, timeout=1, backoff=0.01, **engine)
    return HybridIndex("faults", models, engine=eng, upsert_batch=4)


def upserts(fake) -> int:
    return sum(1 for method, path in fake.requests if method == "PUT" and path.endswith("/points"))


def stored(fake) -> set[str]:
    return set(fake.points.get("faults", {}))


def test_transient_5xx_reset_and_timeout_are_retried_until_written(fake, models):
    idx = index(fake, models, retries=4)
    idx.create()
    fake.fail("/points", 2, "503", method="PUT")
    fake.fail("/points", 1, "reset", method="PUT")
    fake.fail("/points", 1, "502", method="PUT")
    idx.add(recs(8))
    assert stored(fake) == {point_id(f"r{i}") for i in range(8)}
    assert upserts(fake) == 2 + 4  # two batches of 4, four failed tries
    fake.fail("/points/query", 1, "timeout")
    fake.fail("/points/query", 1, "500")
    assert len(idx.search("rivers", 3)) == 3
    fake.fail("/points/count", 1, "429")
    assert idx.count() == 8


def test_a_lasting_outage_names_the_written_and_unwritten_ids(fake, models):
    idx = index(fake, models, retries=2)
    fake.fail_after("/points", 1, "503", times=100, method="PUT")  # the 2nd batch never lands
    with pytest.raises(WriteError) as err:
        idx.add(recs(10))
    e = err.value
    assert e.written == ["r0", "r1", "r2", "r3"]
    assert e.not_written == [f"r{i}" for i in range(4, 10)]
    assert stored(fake) == {point_id(i) for i in e.written}
    assert upserts(fake) == 1 + 3  # one success, then the first try and two retries
    text = str(e)
    assert "4 of 10" in text and "'r4'" in text and "after 3 attempts" in text and "503" in text
    assert "add the same records again" in text
    fake.clear_faults()
    idx.add(recs(10))  # finishing the job: ids are deterministic, unchanged ones are skipped
    assert stored(fake) == {point_id(f"r{i}") for i in range(10)}
    assert idx.stats == {"embedded": 6, "unchanged": 4, "payload_only": 0}


def test_a_stream_names_what_it_had_read(fake, models):
    idx = index(fake, models, retries=1)
    fake.fail_after("/points", 1, "500", times=100, method="PUT")
    with pytest.raises(WriteError, match="whatever the iterable had not yielded yet") as err:
        idx.add(r for r in recs(6))
    assert err.value.written == ["r0", "r1", "r2", "r3"] and err.value.not_written == ["r4", "r5"]


def test_client_errors_are_not_retried(fake, models):
    idx = index(fake, models)
    idx.create()
    fake.fail("/points", 1, "400", method="PUT")
    with pytest.raises(WriteError, match="HTTP 400") as err:
        idx.add(recs(3))
    assert err.value.written == [] and upserts(fake) == 1
    assert "attempts" not in str(err.value.__cause__)


def test_creating_a_collection_is_not_retried(fake, models):
    idx = index(fake, models)
    fake.fail("/collections/faults", 1, "503", method="PUT")
    with pytest.raises(EngineError, match="create_collection failed: HTTP 503"):
        idx.create()
    assert sum(1 for m, p in fake.requests if m == "PUT" and p == "/collections/faults") == 1
    idx.create()  # running again is safe
    assert "faults" in fake.collections


def test_connection_refused_is_retried_then_reported(models, caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    idx = index(f"http://127.0.0.1:{port}", models, retries=2)
    with caplog.at_level(logging.DEBUG), pytest.raises(WriteError) as err:
        idx.add(recs(2))
    assert err.value.written == [] and err.value.not_written == ["r0", "r1"]
    assert "after 3 attempts: ConnectError" in str(err.value)
    with pytest.raises(EngineError, match="ConnectError"):
        idx.search("rivers")
    everything = " ".join([str(err.value), repr(err.value.__cause__), repr(idx), repr(idx.engine),
                           caplog.text])
    assert SECRET not in everything


def test_async_twins_retry_and_report_the_same_way(fake, models):
    async def run():
        idx = index(fake, models, retries=2)
        await idx.acreate()
        fake.fail("/points", 2, "503", method="PUT")
        await idx.aadd(recs(4))
        assert stored(fake) == {point_id(f"r{i}") for i in range(4)}
        fake.fail("/points/query", 1, "reset")
        assert len(await idx.asearch("rivers", 2)) == 2
        fake.fail_after("/points", 0, "503", times=100, method="PUT")
        with pytest.raises(WriteError) as err:
            await idx.aadd(recs(6, "s"))
        assert err.value.written == [] and len(err.value.not_written) == 6
        assert SECRET not in str(err.value)

    asyncio.run(run())


def test_the_api_key_is_sent_but_never_shown(fake, models):
    idx = index(fake, models)
    fake.fail("/collections/faults", 100, "400")
    with pytest.raises(EngineError) as err:
        idx.count()
    assert SECRET not in f"{err.value} {err.value.__cause__!r} {idx!r} {idx.engine!r} {vars(idx.engine)}"
    assert fake.api_keys and set(fake.api_keys) == {SECRET}


def test_faults_were_injected():
    """Reported in docs/reliability.md: faults served by the fake across the tests above."""
    assert INJECTED["faults"] >= 20
    print(f"faults injected: {INJECTED['faults']}")
