"""The LlamaIndex examples in examples/ run offline and do what they say."""

from tests.langchain.test_examples import load


def test_retriever_and_query_engine_example():
    response = load("llama_index_retriever").main()
    assert [n.node.ref_doc_id for n in response.source_nodes] == ["vitamin-d", "bones"]


def test_agent_calls_the_query_engine_tool():
    answer = load("llama_index_agent_tool").main()
    assert answer.startswith("From the notes:")
    assert "reciprocal rank fusion" in answer and "Sourdough" not in answer


def test_capabilities_example(tmp_path):
    out = load("llama_index_capabilities").main(str(tmp_path))
    sources = [n.node.ref_doc_id for n in out["grouped"]]
    assert sources[0] == "health" and len(sources) == len(set(sources)) == 3
    assert out["unchanged"]["embedded"] == 0 and out["unchanged"]["unchanged"] >= 5
    assert out["filled"]["late"] == out["unchanged"]["unchanged"]
    assert out["reranked"][0].node.ref_doc_id == "search"


def test_nodes_without_embeddings_are_embedded_by_the_store_only_when_changed(tmp_path):
    from llama_index.core.schema import TextNode

    from hybridstore import Models
    from hybridstore.llama_index import HybridVectorStore

    store = HybridVectorStore("plain", Models(), path=str(tmp_path))
    nodes = [TextNode(id_=f"n{i}", text=f"note number {i} about rivers") for i in range(4)]
    store.add(nodes)
    assert store.index.stats == {"embedded": 4, "unchanged": 0, "payload_only": 0}
    nodes[0] = TextNode(id_="n0", text="a changed note about mountains")
    store.add(nodes)
    assert store.index.stats == {"embedded": 1, "unchanged": 3, "payload_only": 0}
