"""The search tool in LangChain's own agent loop (`langchain.agents.create_agent`), driven by a
fake tool-calling model that first sends a bad filter, then a good one: the bad one comes back
as a message the model corrects, and the good one runs a real filtered hybrid search."""

import json

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage

from hybridstore import Models
from hybridstore.langchain import HybridVectorStore, search_tool

PAPERS = [("Vitamin D supplements and bone density in older adults.", {"year": 2019, "topic": "health"}),
          ("Vitamin D levels in winter and summer.", {"year": 2023, "topic": "health"}),
          ("BM25 ranks documents by term statistics.", {"year": 2023, "topic": "search"})]


class ToolCallingFake(GenericFakeChatModel):
    def bind_tools(self, tools, **kwargs):
        return self


def store():
    s = HybridVectorStore("papers", models=Models(), payload_indexes={"year": "integer", "topic": "keyword"})
    s.add_texts([t for t, _ in PAPERS], [m for _, m in PAPERS], ids=["p1", "p2", "p3"])
    return s


def call(args, n):
    return AIMessage(content="", tool_calls=[{"name": "search_papers", "id": f"call-{n}", "args": args}])


def test_the_description_names_the_filterable_keys_and_their_types():
    with store() as s:
        tool = search_tool(s, name="search_papers", about="medical and search papers")
        assert "year (integer)" in tool.description and "topic (keyword)" in tool.description
        assert set(tool.args) == {"query", "k", "mode", "filter", "explain", "boost"}
        sampled = search_tool(HybridVectorStore("sampled"), name="x")  # nothing declared: sampled
        sampled_store = HybridVectorStore("sampled2")
        sampled_store.add_texts(["a"], [{"year": 2020, "tags": ["x"], "draft": True}])
        assert "year (integer), tags (list), draft (boolean)" in search_tool(sampled_store).description
        assert "none found" in sampled.description


def test_an_agent_corrects_a_bad_filter_and_gets_filtered_results():
    with store() as s:
        model = ToolCallingFake(messages=iter([
            call({"query": "vitamin D", "filter": '{"year": {"$gte": "recent"}}'}, 1),
            call({"query": "vitamin D", "k": 3, "filter": json.dumps({"year": {"$gte": 2020}})}, 2),
            AIMessage(content="One recent paper: vitamin D levels in winter and summer."),
        ]))
        agent = create_agent(model, [search_tool(s, name="search_papers")])
        messages = agent.invoke({"messages": [("user", "Recent papers on vitamin D?")]})["messages"]
        results = [m for m in messages if isinstance(m, ToolMessage)]
        assert len(results) == 2 and results[0].content.startswith("Error:")
        assert "number or an ISO date" in results[0].content and "call the tool again" in results[0].content
        assert results[1].content.startswith("1. [p2]") and "[p1]" not in results[1].content  # 2019
        assert messages[-1].content.startswith("One recent paper")


async def test_the_async_tool_and_bad_arguments():
    with store() as s:
        tool = search_tool(s)
        assert "[p3]" in (await tool.ainvoke({"query": "term statistics ranking", "k": 1}))
        assert (await tool.ainvoke({"query": "x", "filter": "{year: 2020}"})).startswith(
            "Error: filter is not JSON")
        assert tool.invoke({"query": "term statistics", "mode": "sparse", "k": 1}).startswith("1. [p3]")
        assert tool.invoke({"query": "quantum", "mode": "sparse"}) == "No results."
        assert tool.invoke({"query": "x", "mode": "fuzzy"}).startswith("Error: bad arguments")
