"""The server path of "no silent wrong answers", against the fake Qdrant REST server: the model
signature lives in the collection's metadata, incomplete points make searches say so, and the
async client is closed with the index."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from hybridstore import (
    ConfigurationError,
    HybridIndex,
    MissingVectorsError,
    Models,
    ModelSignatureWarning,
    Record,
    SchemaMismatchError,
)
from hybridstore.engine import ClientEngine
from hybridstore.engine.requests import Write
from hybridstore.qdrant import payload

from ..conftest import LATE
from .fake_qdrant import FakeQdrant

RICE = [Record("r1", "Risotto rice is stirred slowly with hot broth."),
        Record("r2", "Arborio rice makes a creamy risotto.")]


@pytest.fixture
def fake():
    with FakeQdrant() as f:
        yield f


def index(fake: FakeQdrant, models: Models) -> HybridIndex:
    return HybridIndex("c", models, engine=ClientEngine(url=fake.url, timeout=2))


def test_the_signature_is_the_collections_metadata(fake):
    with index(fake, Models()) as idx:
        idx.add(RICE)
    stored = fake.collections["c"]["metadata"]["hybridstore"]["vectors"]
    assert stored["dense"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert stored["dense"]["fingerprint"].startswith("sha256:") and stored["sparse"]["modifier"] == "idf"
    with index(fake, Models(dense=DeterministicFakeEmbedding(size=384))) as other:
        with pytest.raises(SchemaMismatchError, match="all-MiniLM-L6-v2.*DeterministicFakeEmbedding"):
            other.search("rice")


def test_a_collection_without_metadata_is_signed_on_first_write(fake):
    with index(fake, Models()) as idx:
        idx.create()
    del fake.collections["c"]["metadata"]  # as an older hybridstore or another tool left it
    with index(fake, Models()) as idx, pytest.warns(ModelSignatureWarning, match="recorded them now"):
        idx.add(RICE)
    assert ("PATCH", "/collections/c") in fake.requests
    assert set(fake.collections["c"]["metadata"]["hybridstore"]["vectors"]) == {"dense", "sparse"}


def test_points_lacking_a_vector_are_counted_on_the_server(fake):
    models = Models(late_interaction=LATE)
    with index(fake, models) as idx:
        idx.add(RICE[:1])
        vectors = models.embed_documents([RICE[1].text], ["dense", "sparse"])
        idx.engine.run("c", Write(payload.to_points(RICE[1:], vectors, idx.names)))  # another client
    with index(fake, models) as idx:
        with pytest.raises(MissingVectorsError, match=r"1 point\(s\).*'late'"):
            idx.search("rice")
        assert len(idx.search("rice", 5, rerank=False)) == 2


async def test_async_with_closes_the_async_client_too(fake):
    engine = ClientEngine(url=fake.url, timeout=2)
    async with HybridIndex("c", Models(), engine=engine) as idx:
        await idx.aadd(RICE)
        assert await idx.acount() == 2
    assert engine._async._client.openapi_client.client._async_client.is_closed


def test_the_tenant_key_is_recorded_in_the_metadata_too(fake):
    with HybridIndex("c", Models(), engine=ClientEngine(url=fake.url, timeout=2), tenant_key="tenant") as idx:
        idx.tenant("acme").add(RICE)
    assert fake.collections["c"]["metadata"]["hybridstore"]["tenant_key"] == "tenant"
    with HybridIndex("c", Models(), engine=ClientEngine(url=fake.url, timeout=2), tenant_key="org") as other:
        with pytest.raises(ConfigurationError, match="tenant_key='tenant'"):
            other.search("rice")
    with index(fake, Models()) as admin:  # opened without a key: the collection's
        assert [r.metadata for r in admin.get(["r1"])] == [{"tenant": "acme"}]
