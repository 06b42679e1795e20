"""Grouped search, batch queries, incremental indexing and re-embedding through LangChain.

Runs offline with the model pack ($HYBRIDSTORE_MODELS), on an on-disk index in a temp folder.
"""

import tempfile

from langchain_core.documents import Document

from hybridstore import Models
from hybridstore.langchain import HybridVectorStore

CHUNKS = [  # two chunks per source document
    ("Vitamin D is made in the skin after exposure to sunlight.", "health.md"),
    ("Low vitamin D levels are linked to weaker bones.", "health.md"),
    ("BM25 ranks documents by term frequency and inverse document frequency.", "search.md"),
    ("Dense retrieval embeds queries and documents into one vector space.", "search.md"),
    ("The Eiffel Tower was finished in 1889 for the World's Fair.", "history.md"),
    ("The Great Wall of China is thousands of kilometres long.", "history.md"),
]


def main(folder: str | None = None) -> dict:
    folder = folder or tempfile.mkdtemp(prefix="hybridstore-example-")
    docs = [Document(text, metadata={"source": source}) for text, source in CHUNKS]
    store = HybridVectorStore("kb", models=Models(), path=folder)
    store.add_documents(docs, ids=[f"c{i}" for i in range(len(docs))])

    # grouped: at most one chunk per source document
    grouped = store.similarity_search("vitamin D and sunlight", k=3, group_by="source", group_size=1)
    # batch: one embedding batch per model, one engine request
    answers = store.as_retriever(search_kwargs={"k": 1}).batch(["ranking with BM25", "the Eiffel Tower"])
    # incremental: unchanged documents are neither embedded nor written again
    store.add_documents(docs, ids=[f"c{i}" for i in range(len(docs))])
    unchanged = dict(store.index.stats)
    store.index.close()

    # re-embedding: add a late-interaction model to the existing collection, in place
    late = HybridVectorStore("kb", models=Models(late_interaction="colbert-ir/colbertv2.0"),
                             path=folder, create_collection=False)
    filled = late.reembed()
    reranked = late.similarity_search("how are documents ranked", k=1, rerank=True)
    late.index.close()
    return {"grouped": grouped, "batch": answers, "unchanged": unchanged, "filled": filled,
            "reranked": reranked}


if __name__ == "__main__":
    for key, value in main().items():
        print(f"{key}: {value}")
