"""A LlamaIndex retriever and query engine over hybrid search, offline with MockLLM.

Documents are embedded by `HybridEmbedding` (dense) and stored by `HybridVectorStore`, which
adds BM25 vectors; the retriever runs dense + BM25 hybrid search fused inside Qdrant.
"""

from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.llms import MockLLM

from hybridstore.llama_index import HybridEmbedding, HybridVectorStore

DOCS = [
    Document(text="Vitamin D is made in the skin after exposure to sunlight.", id_="vitamin-d"),
    Document(text="Low vitamin D levels are linked to weaker bones in adults.", id_="bones"),
    Document(text="The Eiffel Tower was finished in 1889.", id_="eiffel"),
]


def build_index() -> VectorStoreIndex:
    store = HybridVectorStore("llama-example")
    return VectorStoreIndex.from_documents(
        DOCS, storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=HybridEmbedding())


def main(question: str = "How does the body get vitamin D?"):
    index = build_index()
    retriever = index.as_retriever(similarity_top_k=2, vector_store_query_mode="hybrid")
    for hit in retriever.retrieve(question):
        print(f"{hit.score:.3f}  {hit.node.ref_doc_id}  {hit.node.get_content()}")
    engine = index.as_query_engine(llm=MockLLM(max_tokens=8), similarity_top_k=2,
                                   vector_store_query_mode="hybrid")
    response = engine.query(question)
    print("sources:", [n.node.ref_doc_id for n in response.source_nodes])
    return response


if __name__ == "__main__":
    main()
