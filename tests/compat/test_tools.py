"""Both frameworks' search tools called directly, sync and async. The agent-loop tests
(tests/*/test_tools.py) need agent packages (langchain's langgraph, llama-index-core's agent
workflows) that do not install or import beside our floors, so the floor run calls the tools here."""

from __future__ import annotations

import json

from langchain_core.documents import Document
from llama_index.core.schema import TextNode

from hybridstore import Models
from hybridstore.langchain import HybridVectorStore as LangChainStore
from hybridstore.langchain import search_tool as langchain_tool
from hybridstore.llama_index import HybridVectorStore as LlamaIndexStore
from hybridstore.llama_index import search_tool as llama_index_tool

PAPERS = [("Vitamin D supplements and bone density.", "p1", 2019), ("Vitamin D levels in winter.", "p2", 2023)]
RECENT, BAD = json.dumps({"year": {"$gte": 2020}}), '{"year": {"$gte": "recent"}}'


async def test_the_langchain_tool():
    with LangChainStore("papers", models=Models(), payload_indexes={"year": "integer"}) as store:
        store.add_documents([Document(page_content=t, metadata={"year": y}) for t, _, y in PAPERS],
                            ids=[i for _, i, _ in PAPERS])
        tool = langchain_tool(store)
        assert "year (integer)" in tool.description and set(tool.args) == {"query", "k", "mode", "filter", "explain", "boost"}
        assert tool.invoke({"query": "bone density", "k": 1}).startswith("1. [p1]")
        found = await tool.ainvoke({"query": "vitamin D", "filter": RECENT})
        assert "[p2]" in found and "[p1]" not in found
        bad = tool.invoke({"query": "vitamin D", "filter": BAD})
        assert bad.startswith("Error:") and "number or an ISO date" in bad
        assert tool.invoke({"query": "vitamin D", "k": "many"}).startswith("Error:")  # schema refusal


async def test_the_llama_index_tool():
    with LlamaIndexStore("papers", Models(), payload_indexes={"year": "integer"}) as store:
        store.add([TextNode(text=t, id_=i, metadata={"year": y}) for t, i, y in PAPERS])
        tool = llama_index_tool(store)
        assert tool.metadata.name == "search" and "year (integer)" in tool.metadata.description
        assert "filter" in tool.metadata.get_parameters_dict()["properties"]
        assert tool.call(query="bone density", k=1).content.startswith("1. [p1]")
        found = await tool.acall(query="vitamin D", filter=RECENT)
        assert "[p2]" in found.content and "[p1]" not in found.content
        bad = await tool.acall(query="vitamin D", filter=BAD)
        assert bad.content.startswith("Error:") and "number or an ISO date" in bad.content
