"""LangChain's indexing API over hybridstore: re-running an ingest skips what is unchanged,
replaces the chunks of changed sources and deletes sources that are gone.

Runs offline with the model pack ($HYBRIDSTORE_MODELS). The record manager here lives in
memory; to keep it across runs use langchain-community's SQLRecordManager:

    from langchain_community.indexes import SQLRecordManager
    manager = SQLRecordManager("hybridstore/kb", db_url="sqlite:///records.db")
    manager.create_schema()
"""

import tempfile

from langchain_core.documents import Document
from langchain_core.indexing import InMemoryRecordManager, index

from hybridstore.langchain import HybridVectorStore


def load(edition: int, with_history: bool = True) -> list[Document]:
    """What a loader would give: chunks with their source file in metadata["source"]."""
    docs = [Document("Vitamin D is made in the skin after exposure to sunlight.", metadata={"source": "health.md"}),
            Document(f"Dense retrieval embeds queries and documents (edition {edition}).",
                     metadata={"source": "search.md"})]
    if with_history:
        docs.append(Document("The Eiffel Tower was finished in 1889.", metadata={"source": "history.md"}))
    return docs


def main(folder: str | None = None) -> dict:
    folder = folder or tempfile.mkdtemp(prefix="hybridstore-example-")
    manager = InMemoryRecordManager("hybridstore/kb")
    manager.create_schema()
    with HybridVectorStore("kb", path=folder) as store:
        runs = {
            "first": index(load(1), manager, store, cleanup="incremental", source_id_key="source"),
            "unchanged": index(load(1), manager, store, cleanup="incremental", source_id_key="source"),
            "edited": index(load(2), manager, store, cleanup="incremental", source_id_key="source"),
            "removed": index(load(2, with_history=False), manager, store, cleanup="full",
                             source_id_key="source"),
        }
        runs["stored"] = sorted(d.page_content for d in store.similarity_search("retrieval", k=10))
    for name, result in runs.items():
        print(name, result)
    return runs


if __name__ == "__main__":
    main()
