"""Re-embedding in place: add a model or replace one, from the stored texts, resumably."""

from __future__ import annotations

import asyncio

import pytest
from qdrant_client import models as qm

from hybridstore import HybridIndex, InvalidInputError, Models, SchemaMismatchError
from hybridstore.engine.requests import GetSchema

from .conftest import LATE


def has(idx: HybridIndex, name: str) -> int:
    return idx.count(filter=qm.Filter(must=[qm.HasVectorCondition(has_vector=name)]))


def test_adding_a_late_interaction_model_fills_its_vector_in_place(tmp_path, records):
    with HybridIndex("docs", Models(), path=str(tmp_path)) as idx:
        idx.add(records)
    with HybridIndex("docs", Models(late_interaction=LATE), path=str(tmp_path)) as idx:
        with pytest.raises(SchemaMismatchError, match=r"'late'.*is missing.*reembed\(\)"):
            idx.search("guitar", rerank=True)
        assert idx.reembed() == {"dense": 0, "sparse": 0, "late": 8}
        assert has(idx, "late") == 8 and idx.count() == 8
        assert idx.get([r.id for r in records]) == records  # payloads untouched
        hits = idx.search("someone playing guitar", 2, rerank=True)
        assert next(h.record.id for h in hits).startswith("guitar")
        idx.add(records)  # the stored hashes now match these models: nothing to embed
        assert idx.stats == {"embedded": 0, "unchanged": 8, "payload_only": 0}
        assert idx.reembed() == {"dense": 0, "sparse": 0, "late": 0}  # done is done


def test_a_stopped_reembed_continues_where_it_stopped(records):
    idx = HybridIndex("resume", Models(), location=":memory:")
    idx.add(records)
    later = HybridIndex("resume", Models(late_interaction=LATE), engine=idx.engine)
    seen: list[int] = []

    def stop_after_first(name: str, n: int) -> None:
        seen.append(n)
        raise KeyboardInterrupt  # the user presses Ctrl-C after the first batch

    with pytest.raises(KeyboardInterrupt):
        later.reembed(batch_size=3, progress=stop_after_first)
    assert seen == [3] and has(later, "late") == 3
    assert later.reembed(batch_size=3) == {"dense": 0, "sparse": 0, "late": 5}
    assert has(later, "late") == 8


def test_replacing_the_dense_model_under_a_new_name(tmp_path, records):
    with HybridIndex("swap", Models(), path=str(tmp_path)) as old:
        old.add(records)
    with HybridIndex("swap", Models(), path=str(tmp_path), vector_names={"dense": "dense-v2"}) as new:
        assert new.reembed(batch_size=5) == {"dense-v2": 8, "sparse": 0}
        assert has(new, "dense-v2") == 8
        dense_hits = new.search("the central bank and interest rates", 1, mode="dense")
        assert dense_hits[0].record.id == "rates"
        with pytest.raises(InvalidInputError, match="used by this index's models"):
            new.drop_vector("dense-v2")
        new.drop_vector("dense")
        assert {f.name for f in new.engine.run("swap", GetSchema()).fields} == {"dense-v2", "sparse"}
        assert new.count() == 8
    with HybridIndex("swap", Models(), path=str(tmp_path)) as old, \
            pytest.raises(SchemaMismatchError, match="'dense'.*is missing"):
        old.search("bank")


def test_a_vector_with_other_settings_cannot_be_refilled(records):
    own = HybridIndex("sized", Models(dense=None), location=":memory:")
    own.add(records, dense=[[1.0, 0.0, 0.0, float(i)] for i in range(8)])
    with pytest.raises(SchemaMismatchError, match="new name"):
        HybridIndex("sized", Models(), engine=own.engine).reembed()
    assert own.count() == 8


def test_areembed_is_the_async_twin(records):
    idx = HybridIndex("async", Models(), location=":memory:")
    idx.add(records)
    later = HybridIndex("async", Models(late_interaction=LATE), engine=idx.engine)
    done: list[tuple[str, int]] = []
    assert asyncio.run(later.areembed(batch_size=4, progress=lambda n, k: done.append((n, k)))) \
        == {"dense": 0, "sparse": 0, "late": 8}
    assert done == [("late", 4), ("late", 4)] and has(later, "late") == 8


def test_through_langchain(tmp_path, records):
    from hybridstore.langchain import HybridVectorStore

    texts = [r.text for r in records]
    with_late = Models(late_interaction=LATE)
    first = HybridVectorStore("lc", models=Models(), path=str(tmp_path))
    first.add_texts(texts, [r.metadata for r in records], ids=[r.id for r in records])
    first.index.close()
    store = HybridVectorStore("lc", models=with_late, path=str(tmp_path), create_collection=False)
    assert store.reembed(batch_size=4) == {"dense": 0, "sparse": 0, "late": 8}
    retriever = store.as_retriever(search_kwargs={"k": 1, "rerank": True})
    assert retriever.invoke("a volcano erupted over the island")[0].id == "volcano"
    assert asyncio.run(store.areembed()) == {"dense": 0, "sparse": 0, "late": 0}
    store.index.close()


def test_through_llama_index(tmp_path):
    from llama_index.core import Document, StorageContext, VectorStoreIndex

    from hybridstore.llama_index import HybridEmbedding, HybridVectorStore

    from .conftest import TEXTS

    docs = [Document(text=text, metadata=meta, id_=rid) for rid, (text, meta) in TEXTS.items()]
    first = HybridVectorStore("li", Models(), path=str(tmp_path))
    VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=first),
                                    embed_model=HybridEmbedding())
    first.index.close()
    store = HybridVectorStore("li", Models(late_interaction=LATE), path=str(tmp_path))
    assert store.reembed() == {"dense": 0, "sparse": 0, "late": 8}
    index = VectorStoreIndex.from_vector_store(store, embed_model=HybridEmbedding())
    retriever = index.as_retriever(similarity_top_k=1, vector_store_query_mode="hybrid",
                                   vector_store_kwargs={"rerank": True})
    assert retriever.retrieve("a volcano erupted over the island")[0].node.ref_doc_id == "volcano"
    assert asyncio.run(store.areembed()) == {"dense": 0, "sparse": 0, "late": 0}
    store.index.close()
