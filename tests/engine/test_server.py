"""A real Qdrant server, when one is reachable at $QDRANT_URL (none is on these machines)."""

import os

import pytest

from hybridstore import HybridIndex, Models, Record

URL = os.environ.get("QDRANT_URL")
pytestmark = pytest.mark.skipif(not URL, reason="QDRANT_URL is not set: no Qdrant server to test against")


async def test_remote_round_trip(records):
    idx = HybridIndex("hybridstore-remote-test", Models(), url=URL)
    idx.drop()
    idx.add(records)
    assert idx.count() == len(records)
    assert idx.search("guitar", 2)[0].record.id.startswith("guitar")
    assert (await idx.asearch("volcano ash", 1))[0].record.id == "volcano"
    await idx.aadd([Record("extra", "an extra record")])
    assert await idx.acount() == len(records) + 1
    idx.drop()
