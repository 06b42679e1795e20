"""An MCP client talking to `hybridstore mcp` over stdio, as an agent host (Claude Desktop, an
IDE, your own agent) would. Builds a small on-disk index, starts the server as a process, lists
its tools and calls `search` with a metadata filter.

A host's configuration for the same server (e.g. Claude Desktop's `mcpServers`):

    {"mcpServers": {"papers": {"command": "hybridstore",
        "args": ["mcp", "--path", "/data/papers-index", "--collection", "papers"],
        "env": {"HYBRIDSTORE_MODELS": "/data/models"}}}}

Runs offline with the model pack ($HYBRIDSTORE_MODELS); needs `pip install 'hybridstore[mcp]'`.
"""

import asyncio
import json
import os
import sys
import tempfile

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from hybridstore import HybridIndex, Models, Record


async def ask(folder: str) -> dict:
    params = StdioServerParameters(command=sys.executable, env=dict(os.environ), args=[
        "-m", "hybridstore.cli", "mcp", "--path", folder, "--collection", "papers"])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = [t.name for t in (await session.list_tools()).tools]
        result = await session.call_tool("search", {"query": "vitamin D", "k": 2,
                                                    "filter": json.dumps({"year": {"$gte": 2020}})})
        return {"tools": tools, "search": "".join(c.text for c in result.content if c.type == "text")}


def main(folder: str | None = None) -> dict:
    folder = folder or tempfile.mkdtemp(prefix="hybridstore-mcp-")
    with HybridIndex("papers", Models(), path=folder, payload_indexes={"year": "integer"}) as index:
        index.add([Record("p1", "Vitamin D supplements and bone density.", {"year": 2019}),
                   Record("p2", "Vitamin D levels in winter and summer.", {"year": 2023})])
    out = asyncio.run(ask(folder))
    print(out["tools"])
    print(out["search"])
    return out


if __name__ == "__main__":
    main()
