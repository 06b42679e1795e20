"""`search_tool`: the store as a LlamaIndex `FunctionTool` an agent can call with a query, `k`,
a mode and a metadata filter (see `hybridstore.tools`)."""

from __future__ import annotations

from llama_index.core.tools import FunctionTool

from .. import tools
from .vectorstore import HybridVectorStore


def search_tool(store: HybridVectorStore, name: str = "search", about: str | None = None) -> FunctionTool:
    """A tool whose description names the filterable metadata keys; bad arguments come back
    to the model as a message to correct. ``about``: what the collection holds."""
    run, arun = tools.callables(store.index)
    return FunctionTool.from_defaults(fn=run, async_fn=arun, name=name,
                                      fn_schema=tools.SearchArgs,
                                      description=tools.description(store.index, about))
