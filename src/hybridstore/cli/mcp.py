"""`hybridstore mcp`: the index served over the Model Context Protocol (stdio), with the
official SDK. Tools: `search` (query, k, mode, JSON filter, explain, JSON boost) and `describe`; with
`--allow-writes` also `add_texts` and `delete`. Bad arguments come back as a message the model
can correct (see `hybridstore.tools`)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from .. import tools
from ..errors import InvalidInputError
from ..records import Record
from . import UsageError, opening

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ..index import HybridIndex

FilterArg = Annotated[str | dict[str, Any] | None,
                      Field(description=tools.SearchArgs.model_fields["filter"].description)]
ExplainArg = Annotated[bool, Field(description=tools.SearchArgs.model_fields["explain"].description)]
BoostArg = Annotated[str | dict[str, Any] | None, Field(description=tools.SearchArgs.model_fields["boost"].description)]


def cmd_mcp(args: argparse.Namespace) -> int:
    server_class = _sdk()
    with opening.index(args, existing=True) as index:
        build(server_class, index, args.allow_writes).run("stdio")
    return 0


def build(server_class: type[MCPServer], index: HybridIndex, allow_writes: bool = False) -> MCPServer:
    """The server with its tools over `index` (read-only unless `allow_writes`)."""
    server = server_class("hybridstore", instructions=f"Hybrid search over the collection "
                          f"{index.collection!r}. " + ("" if allow_writes else "Read-only."))

    served = tools.modes(index)  # the mode choices are those this index's models serve
    Mode = Annotated[Literal[tuple(served)] | None,  # type: ignore[valid-type]
                     Field(description=", ".join([f"{served[0]} (default)", *served[1:]]) + ".")]

    async def search(query: Annotated[str, Field(description="What to search for.")],
                     k: Annotated[int, Field(ge=1, le=50, description="How many results.")] = 5,
                     mode: str | None = None, filter: FilterArg = None, explain: ExplainArg = False,
                     boost: BoostArg = None) -> str:
        return await tools.asearch(index, {"query": query, "k": k, "mode": mode, "filter": filter,
                                           "explain": explain, "boost": boost})

    search.__annotations__["mode"] = Mode  # made here, from the index: not a name to look up
    server.tool(description=tools.description(index))(search)

    @server.tool(description="The collection: its vectors, the models that made them, counts, "
                 "the search modes it serves and the metadata keys a search filter can use.")
    async def describe() -> str:
        return tools.collection_facts(index)

    if allow_writes:
        @server.tool(description="Add texts (with optional metadata and ids; an id that exists is "
                     "replaced). Returns the ids.")
        async def add_texts(texts: list[str], metadatas: list[dict[str, Any]] | None = None,
                            ids: list[str] | None = None) -> str:
            with tools.answering() as answer:
                answer.text = json.dumps(await index.aadd(_records(texts, metadatas, ids)))
            return answer.text

        @server.tool(description="Delete records by id and/or by a metadata filter (JSON).")
        async def delete(ids: list[str] | None = None, filter: FilterArg = None) -> str:
            with tools.answering() as answer:
                await index.adelete(ids, filter=tools.parse_filter(filter))
                answer.text = f"deleted; the collection holds {await index.acount()} records"
            return answer.text

    return server


def _records(texts: list[str], metadatas: list[dict[str, Any]] | None, ids: list[str] | None) -> list[Record]:
    from uuid import uuid4

    metadatas = metadatas or [{} for _ in texts]
    ids = ids or [str(uuid4()) for _ in texts]
    if not len(texts) == len(metadatas) == len(ids):
        raise InvalidInputError("texts, metadatas and ids must have the same length")
    return [Record(i, t, dict(m)) for i, t, m in zip(ids, texts, metadatas)]


def _sdk() -> type[MCPServer]:
    try:
        from mcp.server.mcpserver import MCPServer
    except ImportError:
        raise UsageError("hybridstore mcp needs the MCP SDK (version 2): pip install 'hybridstore[mcp]'") from None
    return MCPServer
