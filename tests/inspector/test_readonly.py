"""The inspector's index is read-only: any write reaches no engine (refused, or for the payload
indexes a search's first check asks for, skipped), and the whole API leaves the folder's files
as they were."""

from __future__ import annotations

import pytest

from .conftest import build, digest
from .test_endpoints import Q, post


def test_nothing_is_written(tmp_path, models):
    """The whole API exercised on a fresh index folder: its files are as they were."""
    from starlette.testclient import TestClient

    from hybridstore import HybridIndex
    from hybridstore.inspector.answers import Inspector
    from hybridstore.inspector.endpoints import app

    folder = tmp_path / "index"
    build(folder, models)
    with HybridIndex("inspect", models, path=str(folder)) as index:
        index.count()  # Qdrant Edge settles its journals at the first read after writes: not ours
    before = digest(folder)
    with HybridIndex("inspect", models, path=str(folder)) as index, TestClient(
            app(Inspector(index, str(folder))), base_url="http://127.0.0.1") as c:
        c.get("/api/overview")
        post(c, "search", {"query": Q, "tenant": "north", "fusion": "rrf"})
        post(c, "compare", {"query": Q, "a": {}, "b": {"mode": "sparse"}})
        post(c, "why-not", {"query": Q, "id": "cats", "k": 1, "tenant": "south"})
        post(c, "search", {"query": Q, "group_by": "topic"})
        for method in (c.put, c.delete, c.patch):
            assert method("/api/search").status_code == 405
    assert digest(folder) == before


def test_the_inspectors_index_refuses_any_write(client, opened):
    from hybridstore import Record
    from hybridstore.inspector.readonly import WriteRefused

    for write in (lambda: opened.tenant("north").delete(["guitar-1"]), lambda: opened.tenant("north").add([Record("x", "new")]),
                  opened.drop, opened.optimize):
        with pytest.raises(WriteRefused, match="read-only"):
            write()
    hits = post(client, "search", {"query": "guitar", "tenant": "north", "k": 5})["hits"]
    assert "guitar-1" in [h["id"] for h in hits]  # not deleted
