"""The fake server refuses a request body that qdrant-client's REST models (the server's schema)
do not allow, so a request a real server would reject fails our tests without a server."""

from __future__ import annotations

import httpx
import pytest
from qdrant_client.http import models as m

from .fake_qdrant import FakeQdrant
from .rest_schema import _unknown, problems

VECTORS = {"dense": {"size": 4, "distance": "Cosine"}}


@pytest.mark.parametrize("method, path, body, wrong", [
    ("PUT", "/collections/c", {"vectorz": VECTORS}, "vectorz"),  # misspelt, top level
    ("PUT", "/collections/c", {"vectors": {"dense": {"size": 4, "distance": "Cosine", "on_dsk": True}}},
     "on_dsk"),  # misspelt inside a map of models
    ("POST", "/collections/c/points/query", {"query": [0.1, 0.2], "limitt": 3}, "limitt"),
    ("POST", "/collections/c/points/scroll", {"limit": "many"}, "limit"),  # wrong type
    ("POST", "/collections/c/points/nowhere", {}, "no such endpoint"),
])
def test_a_body_the_server_refuses_is_refused(method, path, body, wrong):
    with pytest.raises(AssertionError, match="would refuse") as raised, FakeQdrant() as fake:
        fake.collections["c"], fake.points["c"] = {"vectors": VECTORS}, {}
        r = httpx.request(method, fake.url + path, json=body)
        assert r.status_code == 400 and "Format error" in r.text
    assert wrong in str(raised.value)


def test_the_bodies_qdrant_client_sends_pass():
    assert problems("PUT", "/collections/c", {"vectors": VECTORS}) == []
    assert problems("POST", "/collections/c/points/scroll", {"limit": 3, "with_payload": True}) == []
    assert problems("GET", "/collections/c/exists", {}) == []


def test_a_field_a_lenient_model_would_drop_is_still_unknown():
    # request models mostly forbid extras; a model that does not (pydantic drops the key) is walked
    raw = {"name": "c", "nmae": "typo"}
    value = m.CollectionDescription.model_validate(raw)
    assert list(_unknown(value, raw, "body")) == ["body.nmae: unknown field of CollectionDescription"]
