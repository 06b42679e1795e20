"""`search_tool`: the store as a LangChain tool an agent can call with a query, `k`, a mode and
a metadata filter (see `hybridstore.tools`)."""

from __future__ import annotations

from langchain_core.tools import StructuredTool

from .. import tools
from .vectorstore import HybridVectorStore


def search_tool(store: HybridVectorStore, name: str = "search", about: str | None = None) -> StructuredTool:
    """A tool whose description names the filterable metadata keys; bad arguments come back
    to the model as a message to correct. ``about``: what the collection holds."""
    run, arun = tools.callables(store.index)
    return StructuredTool.from_function(func=run, coroutine=arun, name=name,
                                        args_schema=tools.SearchArgs,
                                        description=tools.description(store.index, about),
                                        handle_validation_error=tools.bad_arguments)
