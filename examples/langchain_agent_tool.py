"""An agent tool over hybrid search: `create_retriever_tool`, called by a tool-calling model.

Runs offline: a fake chat model plays the LLM and asks for the tool, then answers; the tool
call runs a real hybrid search. Swap in any tool-calling chat model (`llm.bind_tools([tool])`).
"""

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import create_retriever_tool

from hybridstore.langchain import HybridVectorStore

NOTES = [
    "Qdrant fuses dense and sparse results with reciprocal rank fusion.",
    "ColBERT scores a document by MaxSim over token embeddings.",
    "Sourdough bread needs a starter and a long rise.",
]


def build_tool():
    store = HybridVectorStore.from_texts(NOTES, collection_name="agent-example")
    return create_retriever_tool(store.as_retriever(search_kwargs={"k": 1}), "search_notes",
                                 "Search the team's notes. Input: a search query.")


def run_agent(question: str, llm=None) -> list:
    tool = build_tool()
    llm = llm or GenericFakeChatModel(messages=iter([
        AIMessage(content="", tool_calls=[{"name": "search_notes", "id": "call-1",
                                          "args": {"query": "how are dense and sparse fused"}}]),
        AIMessage(content="They are fused with reciprocal rank fusion."),
    ]))
    messages = [HumanMessage(question)]
    while True:  # the usual tool loop: call tools until the model answers
        reply = llm.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            return messages
        for call in reply.tool_calls:
            messages.append(ToolMessage(tool.invoke(call["args"]), tool_call_id=call["id"]))


def main() -> list:
    messages = run_agent("How does Qdrant combine dense and sparse search?")
    for m in messages:
        print(f"{type(m).__name__}: {m.content or m.tool_calls}")
    return messages


if __name__ == "__main__":
    main()
