"""The search tool in LlamaIndex's agent loop (`FunctionAgent`), driven by a scripted
function-calling model that first sends a bad filter, then a good one."""

import json

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.schema import TextNode

from hybridstore import Models
from hybridstore.llama_index import HybridVectorStore, search_tool

FILTERS = ['{"year": {"$gte": "recent"}}', json.dumps({"year": {"$gte": 2020}})]


def scripted() -> MockFunctionCallingLLM:
    def respond(messages, **kwargs):
        results = [m for m in messages if m.role == MessageRole.TOOL]
        if len(results) < len(FILTERS):
            return ChatMessage(role=MessageRole.ASSISTANT, blocks=[ToolCallBlock(
                tool_call_id=f"call-{len(results)}", tool_name="search",
                tool_kwargs={"query": "vitamin D", "filter": FILTERS[len(results)]})])
        return ChatMessage(role=MessageRole.ASSISTANT, content="Results: " + " || ".join(r.content for r in results))
    return MockFunctionCallingLLM(response_generator=respond, is_chat_model=True)


async def test_an_agent_corrects_a_bad_filter_and_gets_filtered_results():
    with HybridVectorStore("papers", Models(), payload_indexes={"year": "integer"}) as store:
        store.add([TextNode(text="Vitamin D supplements and bone density.", id_="p1", metadata={"year": 2019}),
                   TextNode(text="Vitamin D levels in winter.", id_="p2", metadata={"year": 2023})])
        tool = search_tool(store)
        assert "year (integer)" in tool.metadata.description
        answer = str(await FunctionAgent(tools=[tool], llm=scripted()).run("Recent vitamin D papers?"))
        first, second = answer.removeprefix("Results: ").split(" || ")
        assert first.startswith("Error:") and "number or an ISO date" in first
        assert "[p2]" in second and "[p1]" not in second
        assert tool.call(query="bone density", k=1).content.startswith("1. [p1]")
