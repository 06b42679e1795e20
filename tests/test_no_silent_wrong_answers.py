"""No silent wrong answers: a collection knows the models that wrote it, every write fills every
vector, a search never drops points without saying so, and the two embedded engines never
mistake each other's folders. Runs on the engine `make test` selects (edge, then local mode)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from hybridstore import (
    ConfigurationError,
    HybridIndex,
    MissingVectorsError,
    Models,
    ModelSignatureWarning,
    ModelSpec,
    Record,
    SchemaMismatchError,
    StorageLockedError,
)
from hybridstore.engine.requests import GetSchema, SetSignature, Write
from hybridstore.qdrant import payload

from .conftest import LATE, PACK, ROOT

ENGINE = os.environ.get("HYBRIDSTORE_ENGINE") or "edge"
OTHER = {"edge": "local", "local": "edge"}[ENGINE]
RICE = [Record("r1", "Risotto rice is stirred slowly with hot broth."),
        Record("r2", "Arborio rice makes a creamy risotto."),
        Record("r3", "Basmati rice is steamed for biryani.")]


def ids(hits):
    return sorted(h.record.id for h in hits)


def write_without(idx: HybridIndex, records: list[Record], vector: str) -> None:
    """What another tool does: points that lack one of the collection's vectors."""
    kinds = [k for k in idx.models.kinds() if idx.names[k] != vector]
    vectors = idx.models.embed_documents([r.text for r in records], kinds)
    idx.engine.run(idx.collection, Write(payload.to_points(records, vectors, idx.names, idx.layout)))


def test_a_write_that_would_leave_a_vector_empty_is_refused(tmp_path):
    with HybridIndex("rice", Models(late_interaction=LATE), path=str(tmp_path)) as idx:
        idx.add(RICE[:1])
    with HybridIndex("rice", Models(), path=str(tmp_path)) as plain:
        with pytest.raises(SchemaMismatchError, match=r"'late'.*do not produce.*colbert-ir/colbertv2.0"
                                                      r".*drop_vector\('late'\)"):
            plain.add(RICE[1:])
        assert plain.count() == 1  # nothing written
        assert ids(plain.search("risotto rice", 5)) == ["r1"]  # reading with fewer models is fine
    with HybridIndex("rice", Models(late_interaction=LATE), path=str(tmp_path)) as idx:
        idx.add(RICE[1:])
        assert ids(idx.search("risotto rice", 5)) == ["r1", "r2", "r3"]


def test_points_lacking_a_vector_make_the_search_say_so_until_reembedded(tmp_path):
    with HybridIndex("rice", Models(late_interaction=LATE), path=str(tmp_path)) as idx:
        idx.add(RICE[:1])
        write_without(idx, RICE[1:], "late")  # e.g. another tool, or a reembed in progress
    with HybridIndex("rice", Models(late_interaction=LATE), path=str(tmp_path)) as idx:
        assert idx.count() == 3
        with pytest.raises(MissingVectorsError, match=r"2 point\(s\).*'late'.*reembed\(\).*rerank=False") as err:
            idx.search("risotto rice", 5)
        assert (err.value.vector, err.value.lacking) == ("late", 2)
        with pytest.raises(MissingVectorsError):
            idx.search_batch(["risotto rice", "biryani"], 5)
        late = next(v for v in idx.info()["vectors"] if v["name"] == "late")
        assert (late["points"], late["lacking"]) == (1, 2)
        assert ids(idx.search("risotto rice", 5, rerank=False)) == ["r1", "r2", "r3"]
        assert idx.reembed()["late"] == 2
        assert ids(idx.search("risotto rice", 5)) == ["r1", "r2", "r3"]


async def test_the_async_search_checks_too(tmp_path):
    with HybridIndex("rice", Models(late_interaction=LATE), path=str(tmp_path)) as idx:
        idx.add(RICE[:1])
        write_without(idx, RICE[1:], "late")
    async with HybridIndex("rice", Models(late_interaction=LATE), path=str(tmp_path)) as idx:
        with pytest.raises(MissingVectorsError, match="2 point"):
            await idx.asearch("risotto rice", 5)
        with pytest.raises(MissingVectorsError):
            await idx.asearch_batch(["risotto rice"], 5)
        assert (await idx.areembed())["late"] == 2
        assert ids(await idx.asearch("risotto rice", 5)) == ["r1", "r2", "r3"]


def test_another_dense_model_of_the_same_size_is_refused_before_any_read_or_write(tmp_path):
    with HybridIndex("rice", Models(), path=str(tmp_path)) as idx:
        idx.add(RICE)
    fake = Models(dense=DeterministicFakeEmbedding(size=384))
    with HybridIndex("rice", fake, path=str(tmp_path)) as other:
        for call in (lambda: other.search("rice"), lambda: other.add([Record("x", "y")]), other.open):
            with pytest.raises(SchemaMismatchError) as err:
                call()
            message = str(err.value)
            assert "all-MiniLM-L6-v2" in message and "DeterministicFakeEmbedding" in message
            assert "reembed()" in message and "drop_vector('dense')" in message
        assert other.count() == 3
        info = other.info()
        dense = next(v for v in info["vectors"] if v["name"] == "dense")
        assert "all-MiniLM-L6-v2" in dense["stored_model"] and dense["same_model"] is False
        assert "DeterministicFakeEmbedding" in dense["configured_model"]


def test_same_name_other_weights_is_refused(tmp_path):
    """A folder served under the pack's ColBERT name with other files (as the real
    colbert-ir/colbertv2.0 would be) is told apart by the fingerprint."""
    other = tmp_path / "colbert-other"
    shutil.copytree(PACK / "colbert-minilm-l6", other)
    os.chmod(other / "tokenizer.json", 0o644)
    with open(other / "tokenizer.json", "a") as fh:
        fh.write("\n")  # other bytes: enough for the fingerprint
    with HybridIndex("rice", Models(late_interaction=LATE), path=str(tmp_path / "idx")) as idx:
        idx.add(RICE)
    renamed = Models(late_interaction=ModelSpec(LATE, "late_interaction", path=str(other)))
    with HybridIndex("rice", renamed, path=str(tmp_path / "idx")) as idx:
        with pytest.raises(SchemaMismatchError, match="other weights under the same name"):
            idx.search("rice")


def test_caller_embeddings_are_compared_by_class_and_model_name(tmp_path):
    class Named(DeterministicFakeEmbedding):
        model: str = "model-a"

    with HybridIndex("own", Models(dense=Named(size=8)), path=str(tmp_path)) as idx:
        idx.add(RICE)
    with HybridIndex("own", Models(dense=Named(size=8)), path=str(tmp_path)) as idx:
        assert len(idx.search("rice", 3)) == 3
    with HybridIndex("own", Models(dense=Named(size=8, model="model-b")), path=str(tmp_path)) as idx:
        with pytest.raises(SchemaMismatchError, match="'model-a'.*'model-b'"):
            idx.search("rice")
    with HybridIndex("plain", Models(dense=DeterministicFakeEmbedding(size=8)), path=str(tmp_path)) as idx:
        idx.add(RICE)
    with HybridIndex("plain", Models(dense=DeterministicFakeEmbedding(size=8)), path=str(tmp_path)) as idx:
        with pytest.warns(ModelSignatureWarning, match="cannot tell"):
            assert len(idx.search("rice", 3)) == 3


def test_a_collection_without_a_record_gets_one_on_first_write(tmp_path):
    with HybridIndex("old", Models(), path=str(tmp_path)) as idx:
        idx.create()
        idx.engine.run("old", SetSignature({}))  # what an older hybridstore wrote: no signature
        assert not idx.engine.run("old", GetSchema()).signature
    with HybridIndex("old", Models(), path=str(tmp_path)) as idx:
        assert idx.info()["signature_recorded"] is False
        with pytest.warns(ModelSignatureWarning, match="had no record.*recorded them now"):
            idx.add(RICE)
        assert idx.info()["signature_recorded"] is True
    with HybridIndex("old", Models(dense=DeterministicFakeEmbedding(size=384)), path=str(tmp_path)) as idx:
        with pytest.raises(SchemaMismatchError):
            idx.search("rice")


def test_the_other_embedded_engine_refuses_the_folder(tmp_path):
    folder = tmp_path / "idx"
    with HybridIndex("rice", Models(), path=str(folder), engine=ENGINE) as idx:
        idx.add(RICE)
        before = sorted(os.listdir(folder))
        with pytest.raises(ConfigurationError, match=f"engine='{ENGINE}'"):
            HybridIndex("rice", Models(), path=str(folder), engine=OTHER)  # while held, too
    with pytest.raises(ConfigurationError, match=f"engine='{ENGINE}'"):
        HybridIndex("rice", Models(), path=str(folder), engine=OTHER)
    assert sorted(os.listdir(folder)) == before  # no second store beside the first
    with HybridIndex("rice", Models(), path=str(folder), engine=ENGINE) as idx:
        assert idx.count() == 3 and idx.info()["storage"]["folder_written_by"] == [ENGINE]


def test_a_folder_opens_with_the_engine_that_wrote_it(tmp_path, monkeypatch):
    """Without engine=, the folder's own engine opens it, whatever the default (a folder
    langchain-qdrant wrote opens in local mode); the default applies to new folders."""
    folder = tmp_path / "idx"
    with HybridIndex("rice", Models(), path=str(folder), engine=OTHER) as idx:
        idx.add(RICE)
    monkeypatch.setenv("HYBRIDSTORE_ENGINE", ENGINE)
    with HybridIndex("rice", Models(), path=str(folder)) as idx:
        assert idx.engine.describe()["engine"] == OTHER and idx.count() == 3
    with HybridIndex("rice", Models(), path=str(tmp_path / "new")) as idx:
        assert idx.engine.describe()["engine"] == ENGINE


def test_a_second_open_names_the_holder_and_a_closed_one_frees_the_folder(tmp_path):
    first = HybridIndex("rice", Models(), path=str(tmp_path))
    first.add(RICE)
    second = HybridIndex("rice", Models(), path=str(tmp_path))
    with pytest.raises(StorageLockedError, match=r"HybridIndex\('rice'\) opened at .*"
                                                 r"test_no_silent_wrong_answers.py:\d+.*close"):
        second.count()
    first.close()
    assert second.count() == 3
    second.close()


def test_rebinding_a_name_to_a_new_store_on_the_same_folder_works(tmp_path):
    """A notebook cell run twice: the new object is built while the old one is still bound."""
    from hybridstore.langchain import HybridVectorStore as LangChainStore
    from hybridstore.llama_index import HybridVectorStore as LlamaIndexStore

    index = HybridIndex("rice", Models(), path=str(tmp_path / "core"))
    index.add(RICE)
    index = HybridIndex("rice", Models(), path=str(tmp_path / "core"))
    assert index.count() == 3
    store = LangChainStore("rice", path=str(tmp_path / "lc"))
    store.add_texts(["Risotto rice is stirred slowly."], ids=["r1"])
    store = LangChainStore("rice", path=str(tmp_path / "lc"))
    assert [d.id for d in store.similarity_search("risotto", 1)] == ["r1"]
    li = LlamaIndexStore("rice", path=str(tmp_path / "li"))
    li.index.add(RICE)
    li = LlamaIndexStore("rice", path=str(tmp_path / "li"))
    assert li.index.count() == 3
    for obj in (index, store, li):
        obj.close()


def test_rerunning_a_cell_with_from_texts_or_from_documents_works(tmp_path):
    """The classmethods write at once, while the store of the last run is still bound: the new
    store shares that store's engine (as index= would) instead of failing on the lock."""
    from langchain_core.documents import Document as LangChainDocument
    from llama_index.core import Document, StorageContext, VectorStoreIndex

    from hybridstore.langchain import HybridVectorStore as LangChainStore
    from hybridstore.llama_index import HybridEmbedding
    from hybridstore.llama_index import HybridVectorStore as LlamaIndexStore

    lc = str(tmp_path / "lc")
    for _ in range(2):
        store = LangChainStore.from_texts(["Risotto rice is stirred slowly."], ids=["r1"], path=lc)
        assert [d.id for d in store.similarity_search("risotto", 3)] == ["r1"]
    store = LangChainStore.from_documents([LangChainDocument("Arborio rice.", id="r2")], path=lc)
    assert store.index.count() == 2
    acme = LangChainStore("rice", path=lc, tenant="acme", tenant_key="tenant")
    acme.add_texts(["Acme's own rice."], ids=["r1"])  # a second store on the folder, another collection
    assert acme.index.count() == 1 and store.index.count() == 2
    for _ in range(2):
        index = VectorStoreIndex.from_documents(
            [Document(text="Basmati rice is steamed.", id_="b")], embed_model=HybridEmbedding(),
            storage_context=StorageContext.from_defaults(vector_store=LlamaIndexStore(path=str(tmp_path / "li"))))
        assert index.as_retriever().retrieve("basmati")
    store.close()
    index.vector_store.close()


def test_the_lock_is_taken_when_the_index_is_built(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys; from hybridstore import HybridIndex, Models\n"
            f"idx = HybridIndex('held', Models(), path={str(tmp_path)!r})\n"
            "print('built', flush=True); sys.stdin.read(); idx.close()")],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "built"  # built, never called
        with pytest.raises(StorageLockedError, match="another process"):
            HybridIndex("held", Models(), path=str(tmp_path))
    finally:
        child.communicate("", timeout=60)
    HybridIndex("held", Models(), path=str(tmp_path)).close()


def test_stores_open_and_close_like_files(tmp_path):
    from hybridstore.langchain import HybridVectorStore as LangChainStore
    from hybridstore.llama_index import HybridVectorStore as LlamaIndexStore

    for make in (lambda: LangChainStore("c", path=str(tmp_path)),
                 lambda: LlamaIndexStore("c", path=str(tmp_path))):
        with make() as store:  # a second store shares the first's engine (a HybridIndex is refused)
            assert make().index.engine is store.index.engine
            with pytest.raises(StorageLockedError, match="engine="):
                HybridIndex("c", Models(), path=str(tmp_path)).count()
        make().close()


async def test_async_with_closes_too(tmp_path):
    from hybridstore.langchain import HybridVectorStore as LangChainStore

    async with HybridIndex("c", Models(), path=str(tmp_path)) as idx:
        await idx.aadd(RICE)
    async with LangChainStore("c", path=str(tmp_path)) as store:
        assert len(await store.asimilarity_search("rice", 3)) == 3
    with HybridIndex("c", Models(), path=str(tmp_path)) as idx:
        assert idx.count() == 3


def test_filters_meet_numbers_stored_either_way_and_keys_of_any_spelling(models):
    """2 == 2.0 in every operator; keys with spaces or colons filter (they raised before);
    a key holding dots is reached quoted; through search and get, on this engine."""
    idx = HybridIndex("meta", models)
    idx.add([Record("int", "Rice grows in paddies.", {"n": 2, "Author Name": "Ana", "a:b": 1}),
             Record("float", "Rice is a cereal grain.", {"n": 2.0, "a.b": "dotted", "x y": {"z": "v"}}),
             Record("three", "Rice feeds billions.", {"n": 3})])
    expect = {'{"n": 2}': ["float", "int"], '{"n": {"$in": [2, 7]}}': ["float", "int"],
              '{"n": {"$ne": 2}}': ["three"], '{"n": {"$nin": [2]}}': ["three"],
              '{"n": {"$all": [2]}}': ["float", "int"], '{"n": 2.0}': ["float", "int"],
              '{"Author Name": "Ana"}': ["int"], '{"a:b": 1}': ["int"], '{"\\"a.b\\"": "dotted"}': ["float"],
              '{"x y.z": "v"}': ["float"], '{"a.b": "dotted"}': []}  # a.b: key b inside key a
    import json

    for spec, want in expect.items():
        flt = json.loads(spec)
        assert sorted(r.id for r in idx.get(filter=flt)) == want, spec
        assert ids(idx.search("rice", 10, filter=flt, mode="sparse")) == want, spec
    idx.close()
