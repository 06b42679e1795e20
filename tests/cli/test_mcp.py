"""`hybridstore mcp` end to end: the MCP SDK's own client over a real stdio session with a
spawned server process, on an on-disk index with the pack's models."""

import json
import os
import sys

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from hybridstore import HybridIndex, Models, Record

from ..conftest import ROOT

PAPERS = [Record("p1", "Vitamin D supplements and bone density in older adults.", {"year": 2019}),
          Record("p2", "Vitamin D levels in winter and summer.", {"year": 2023}),
          Record("p3", "BM25 ranks documents by term statistics.", {"year": 2023})]


@pytest.fixture
def folder(tmp_path):
    with HybridIndex("papers", Models(), path=str(tmp_path), payload_indexes={"year": "integer"}) as idx:
        idx.add(PAPERS)
    return tmp_path


def server(folder, *extra):
    return StdioServerParameters(command=sys.executable, cwd=str(ROOT), env=dict(os.environ),
                                 args=["-m", "hybridstore.cli", "mcp", "--path", str(folder),
                                       "--collection", "papers", *extra])


def text(result) -> str:
    return "".join(c.text for c in result.content if c.type == "text")


async def test_a_read_only_server_searches_with_filters_and_describes(folder):
    async with stdio_client(server(folder)) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == {"search", "describe"}  # read-only: no writing tools
        assert "year (integer)" in tools["search"].description
        assert set(tools["search"].input_schema["properties"]) == {"query", "k", "mode", "filter", "explain", "boost"}
        found = text(await session.call_tool("search", {"query": "vitamin D", "k": 3,
                                                        "filter": json.dumps({"year": 2023})}))
        assert found.startswith("1. [p2]") and "[p1]" not in found
        why = text(await session.call_tool("search", {"query": "vitamin D winter", "k": 1, "explain": True}))
        assert why.startswith("1. [p2]") and "\nwhy: dense #1 " in why and "winter=" in why and "fused " in why
        wrong = text(await session.call_tool("search", {"query": "vitamin D", "filter": '{"year": {"$gte": "x"}}'}))
        assert wrong.startswith("Error:") and "call the tool again" in wrong
        older = {"match": [[{"year": 2019}, 10.0]]}  # lifts p1 over p2
        boosted = text(await session.call_tool("search", {"query": "vitamin D winter", "k": 2, "boost": json.dumps(older)}))
        assert boosted.startswith("1. [p1]") and "\n\n2. [p2]" in boosted
        bad = text(await session.call_tool("search", {"query": "vitamin D", "boost": {"factor": 3}}))
        assert bad.startswith("Error: factor takes a metadata key") and "call the tool again" in bad
        info = json.loads(text(await session.call_tool("describe", {})))
        assert info["count"] == 3 and info["filterable_keys"] == {"year": "integer"}


async def test_writes_need_allow_writes(folder):
    async with stdio_client(server(folder, "--allow-writes")) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        assert {t.name for t in (await session.list_tools()).tools} == {"search", "describe", "add_texts", "delete"}
        added = text(await session.call_tool("add_texts", {"texts": ["Cats sleep most of the day."],
                                                           "metadatas": [{"year": 2024}], "ids": ["c1"]}))
        assert json.loads(added) == ["c1"]
        assert text(await session.call_tool("search", {"query": "cats sleeping", "k": 1})).startswith("1. [c1]")
        gone = text(await session.call_tool("delete", {"filter": json.dumps({"year": {"$gte": 2023}})}))
        assert gone == "deleted; the collection holds 1 records"
        bad = text(await session.call_tool("add_texts", {"texts": ["  "]}))
        assert bad.startswith("Error:") and "text is empty" in bad
    with HybridIndex("papers", Models(), path=str(folder)) as idx:
        assert [r.id for r in idx.get()] == ["p1"]


async def test_modes_offered_are_those_served_and_describe_keeps_paths_private(tmp_path):
    with HybridIndex("papers", Models(sparse=None), path=str(tmp_path)) as idx:  # dense only
        idx.add(PAPERS)
    params = StdioServerParameters(command=sys.executable, cwd=str(ROOT), env=dict(os.environ),
                                   args=["-m", "hybridstore.cli", "--sparse", "none", "mcp", "--path",
                                         str(tmp_path), "--collection", "papers"])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        search = next(t for t in (await session.list_tools()).tools if t.name == "search")
        mode = json.dumps(search.input_schema["properties"]["mode"])
        assert '"dense"' in mode and "sparse" not in mode and "hybrid" not in mode
        assert "modes: dense;" in search.description
        wrong = text(await session.call_tool("search", {"query": "vitamin", "mode": "sparse"}))
        assert wrong.startswith("Error:") or "validation error" in wrong.lower()
        described = text(await session.call_tool("describe", {}))
        info = json.loads(described)
        assert info["modes"] == ["dense"] and info["count"] == 3 and info["storage"] == {"engine": info["storage"]["engine"]}
        assert str(tmp_path) not in described and os.environ["HYBRIDSTORE_MODELS"] not in described
