"""LangChain's own indexing API (`index` / `aindex` with a record manager) against the store,
with the pack's models and a real engine: re-runs skip what is unchanged, changed sources
replace their old chunks, sources that are gone are cleaned up."""

import pytest
from langchain_core.documents import Document
from langchain_core.indexing import InMemoryRecordManager, aindex, index

from hybridstore.langchain import HybridVectorStore


def docs(version: int = 1) -> list[Document]:
    return [Document("Risotto rice is stirred slowly with hot broth.", metadata={"source": "rice.md"}),
            Document("Basmati rice is steamed for biryani.", metadata={"source": "rice.md"}),
            Document(f"Volcanoes erupt ash and lava (edition {version}).", metadata={"source": "volcano.md"})]


@pytest.fixture
def setup():
    store = HybridVectorStore("indexed")
    manager = InMemoryRecordManager("hybridstore/indexed")
    manager.create_schema()
    yield store, manager
    store.close()


def texts(store):
    return sorted(d.page_content for d in store.similarity_search("rice volcano ash", 10))


def test_incremental_skips_unchanged_and_replaces_changed_sources(setup):
    store, manager = setup
    first = index(docs(), manager, store, cleanup="incremental", source_id_key="source")
    assert first == {"num_added": 3, "num_updated": 0, "num_skipped": 0, "num_deleted": 0}
    again = index(docs(), manager, store, cleanup="incremental", source_id_key="source")
    assert again == {"num_added": 0, "num_updated": 0, "num_skipped": 3, "num_deleted": 0}
    changed = index(docs(2), manager, store, cleanup="incremental", source_id_key="source")
    assert changed["num_added"] == 1 and changed["num_deleted"] == 1 and changed["num_skipped"] == 2
    assert store.index.count() == 3
    assert "Volcanoes erupt ash and lava (edition 2)." in texts(store)
    assert "Volcanoes erupt ash and lava (edition 1)." not in texts(store)


def test_full_cleanup_deletes_sources_that_are_gone(setup):
    store, manager = setup
    index(docs(), manager, store, cleanup="full", source_id_key="source")
    result = index(docs()[:2], manager, store, cleanup="full", source_id_key="source")
    assert result["num_deleted"] == 1 and store.index.count() == 2
    assert all("Volcano" not in t for t in texts(store))


def test_no_cleanup_adds_only_what_is_new(setup):
    store, manager = setup
    index(docs(), manager, store, cleanup=None)
    result = index(docs() + [Document("Cats sleep all day.", metadata={"source": "cats.md"})],
                   manager, store, cleanup=None)
    assert result == {"num_added": 1, "num_updated": 0, "num_skipped": 3, "num_deleted": 0}
    assert store.index.count() == 4


async def test_aindex_is_the_async_twin(setup):
    store, manager = setup
    first = await aindex(docs(), manager, store, cleanup="incremental", source_id_key="source")
    again = await aindex(docs(2), manager, store, cleanup="incremental", source_id_key="source")
    assert first["num_added"] == 3 and again == {"num_added": 1, "num_updated": 0,
                                                  "num_skipped": 2, "num_deleted": 1}
    assert store.index.count() == 3


def test_options_the_framework_passes_along_are_accepted(setup):
    store, _ = setup
    store.add_documents(docs(), ids=["a", "b", "c"], batch_size=2)  # batch_size: ignored
    store.add_documents(docs(), ids=["a", "b", "c"])
    assert store.index.count() == 3 and store.index.stats == {"embedded": 0, "unchanged": 3, "payload_only": 0}
    from hybridstore import InvalidInputError

    with pytest.raises(InvalidInputError, match="unknown options \\['colour'\\].*ignores batch_size"):
        store.add_texts(["x"], colour="red")
