"""Grouped search, incremental indexing and re-embedding through LlamaIndex.

Runs offline with the model pack ($HYBRIDSTORE_MODELS), on an on-disk index in a temp folder.
"""

import tempfile

from llama_index.core import Document, StorageContext, VectorStoreIndex

from hybridstore import Models
from hybridstore.llama_index import HybridEmbedding, HybridVectorStore

SOURCES = {  # each splits into two or three nodes
    "health": "Vitamin D is made in the skin after exposure to sunlight, and a short walk at noon "
              "in summer is often enough for most people to make what they need. Low vitamin D "
              "levels are linked to weaker bones, falls and fractures in older adults, which is "
              "why doctors sometimes prescribe supplements during the darker winter months.",
    "search": "BM25 ranks documents by term frequency and inverse document frequency, so rare "
              "words that appear often in a document count the most for its score. Dense "
              "retrieval embeds queries and documents into one vector space, where documents "
              "that mean the same thing as the query lie close to it even without shared words.",
    "history": "The Eiffel Tower was finished in 1889 for the World's Fair in Paris, and at the "
               "time it was the tallest structure that people had ever built anywhere in the world.",
}


def build(store: HybridVectorStore) -> VectorStoreIndex:
    from llama_index.core.node_parser import SentenceSplitter

    docs = [Document(text=text, id_=name) for name, text in SOURCES.items()]
    return VectorStoreIndex.from_documents(
        docs, storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=HybridEmbedding(), transformations=[SentenceSplitter(
            chunk_size=50, chunk_overlap=0, id_func=lambda i, doc: f"{doc.id_}-{i}")])


def main(folder: str | None = None) -> dict:
    folder = folder or tempfile.mkdtemp(prefix="hybridstore-example-")
    store = HybridVectorStore("kb", Models(), path=folder)
    index = build(store)
    # grouped: at most one node per source document, best documents first
    grouped = index.as_retriever(similarity_top_k=3, vector_store_kwargs={
        "group_by": "doc_id", "group_size": 1}).retrieve("vitamin D from sunlight")
    # incremental: stable node ids (id_func), so building again embeds and writes nothing new
    build(store)
    unchanged = dict(store.index.stats)
    store.index.close()

    # re-embedding: add a late-interaction model to the existing collection, in place
    late = HybridVectorStore("kb", Models(late_interaction="colbert-ir/colbertv2.0"), path=folder)
    filled = late.reembed()
    retriever = VectorStoreIndex.from_vector_store(late, embed_model=HybridEmbedding()).as_retriever(
        similarity_top_k=1, vector_store_query_mode="hybrid", vector_store_kwargs={"rerank": True})
    reranked = retriever.retrieve("how are documents ranked")
    late.index.close()
    return {"grouped": grouped, "unchanged": unchanged, "filled": filled, "reranked": reranked}


if __name__ == "__main__":
    for key, value in main().items():
        print(f"{key}: {value}")
