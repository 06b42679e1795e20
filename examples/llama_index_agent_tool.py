"""A query-engine tool over hybrid search, called by a LlamaIndex agent.

Runs offline: a mock function-calling LLM asks for the tool with the user's question, then
answers from the tool's output. Swap in any function-calling LLM for real use.
"""

import asyncio

from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms import MockLLM
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.tools import QueryEngineTool

from hybridstore.llama_index import HybridEmbedding, HybridVectorStore

NOTES = [
    "Qdrant fuses dense and sparse results with reciprocal rank fusion.",
    "ColBERT scores a document by MaxSim over token embeddings.",
    "Sourdough bread needs a starter and a long rise.",
]


def build_tool() -> QueryEngineTool:
    store = HybridVectorStore("agent-tool-example")
    index = VectorStoreIndex.from_documents(
        [Document(text=t) for t in NOTES], storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=HybridEmbedding())
    # MockLLM echoes its prompt, so the tool's answer shows the retrieved context.
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=1, vector_store_query_mode="hybrid")
    return QueryEngineTool.from_defaults(engine, name="search_notes",
                                         description="Search the team's notes.")


def scripted_llm() -> MockFunctionCallingLLM:
    def respond(messages, **kwargs):
        tool_results = [m for m in messages if m.role == MessageRole.TOOL]
        if tool_results:
            return ChatMessage(role=MessageRole.ASSISTANT, content=f"From the notes: {tool_results[-1].content}")
        question = [m for m in messages if m.role == MessageRole.USER][-1].content
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[ToolCallBlock(
            tool_call_id="call-1", tool_name="search_notes", tool_kwargs={"input": question})])
    return MockFunctionCallingLLM(response_generator=respond, is_chat_model=True)


async def ask(question: str) -> str:
    agent = FunctionAgent(tools=[build_tool()], llm=scripted_llm())
    return str(await agent.run(question))


def main(question: str = "How does Qdrant combine dense and sparse search?") -> str:
    answer = asyncio.run(ask(question))
    print(answer)
    return answer


if __name__ == "__main__":
    main()
