"""The examples in examples/ run offline and do what they say."""

import importlib.util
from pathlib import Path

from langchain_core.messages import ToolMessage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rag_chain_retrieves_with_hybrid_search_and_answers():
    result = load("langchain_rag").main()
    assert next(d.page_content for d in result["docs"]).startswith("Vitamin D is made in the skin")
    assert "Vitamin D is made in the skin" in result["context"]
    assert result["answer"] == "Sunlight on the skin makes vitamin D."


def test_agent_tool_returns_hybrid_results_to_the_model():
    messages = load("langchain_agent_tool").main()
    tool_messages = [m for m in messages if isinstance(m, ToolMessage)]
    assert len(tool_messages) == 1
    assert "reciprocal rank fusion" in tool_messages[0].content
    assert messages[-1].content == "They are fused with reciprocal rank fusion."


def test_capabilities_example(tmp_path):
    out = load("langchain_capabilities").main(str(tmp_path))
    assert [d.metadata["source"] for d in out["grouped"]] == ["health.md", "search.md", "history.md"]
    assert [[d.id for d in docs] for docs in out["batch"]] == [["c2"], ["c4"]]
    assert out["unchanged"] == {"embedded": 0, "unchanged": 6, "payload_only": 0}
    assert out["filled"] == {"dense": 0, "sparse": 0, "late": 6}
    assert out["reranked"][0].id == "c2"


def test_indexing_api_example(tmp_path):
    runs = load("langchain_indexing").main(str(tmp_path))
    assert runs["first"]["num_added"] == 3
    assert runs["unchanged"] == {"num_added": 0, "num_updated": 0, "num_skipped": 3, "num_deleted": 0}
    assert runs["edited"]["num_added"] == 1 and runs["edited"]["num_deleted"] == 1
    assert runs["removed"]["num_deleted"] == 1
    assert runs["stored"] == ["Dense retrieval embeds queries and documents (edition 2).",
                              "Vitamin D is made in the skin after exposure to sunlight."]


def test_self_query_example():
    docs = load("langchain_self_query").main()
    assert [d.id for d in docs] == ["p2"]


def test_mcp_client_example(tmp_path):
    out = load("mcp_client").main(str(tmp_path))
    assert out["tools"] == ["search", "describe"] and out["search"].startswith("1. [p2]")
    assert "[p1]" not in out["search"]
