"""The LlamaIndex examples in examples/ run offline and do what they say."""

from tests.langchain.test_examples import load


def test_retriever_and_query_engine_example():
    response = load("llama_index_retriever").main()
    assert [n.node.ref_doc_id for n in response.source_nodes] == ["vitamin-d", "bones"]


def test_agent_calls_the_query_engine_tool():
    answer = load("llama_index_agent_tool").main()
    assert answer.startswith("From the notes:")
    assert "reciprocal rank fusion" in answer and "Sourdough" not in answer
