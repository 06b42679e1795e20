"""`Settings`: one frozen, checked object for storage and indexing options, shared by the index,
both adapters and the command line."""

import dataclasses

import pytest

from hybridstore import ConfigurationError, HybridIndex, Models, Settings


def test_options_are_checked_once_naming_the_valid_ones():
    with pytest.raises(ConfigurationError, match=r"unknown option\(s\) \['paht'\].*path"):
        Settings.of(paht="/tmp/x")
    with pytest.raises(ConfigurationError, match=r"unknown option\(s\) \['foo'\].*path"):
        Settings(foo=1)  # the constructor too (README: "refused, naming the valid ones")
    with pytest.raises(ConfigurationError, match="give one of"):
        Settings(path="/tmp/x", url="http://localhost:6333")
    with pytest.raises(ConfigurationError, match="payload_indexes"):
        Settings(payload_indexes={"year": "number"})
    with pytest.raises(ConfigurationError, match="location="):
        Settings(location="disk")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().path = "/tmp/x"  # type: ignore[misc]


def test_keywords_go_on_top_of_a_settings_object():
    base = Settings(payload_indexes={"year": "integer"}, optimize_threshold=None)
    merged = Settings.of(base, vector_names={"dense": "d2"})
    assert merged.payload_indexes == {"year": "integer"} and merged.optimize_threshold is None
    assert merged.vector_names == {"dense": "d2"} and base.vector_names == {}


def test_the_index_and_both_adapters_take_the_same_settings(tmp_path):
    from hybridstore.langchain import HybridVectorStore as LangChainStore
    from hybridstore.llama_index import HybridVectorStore as LlamaIndexStore

    shared = Settings(vector_names={"dense": "text"}, payload_indexes={"topic": "keyword"})
    index = HybridIndex("a", Models(), settings=shared)
    lc = LangChainStore("b", settings=shared)
    li = LlamaIndexStore("c", settings=shared)
    for store in (index, lc.index, li.index):
        assert store.settings is shared or store.settings == shared
        assert store.names["dense"] == "text"
    with pytest.raises(ConfigurationError, match="unknown option"):
        LangChainStore("d", colection="x")
    for store in (index, lc, li):
        store.close()


@pytest.mark.parametrize(("options", "models", "named"), [
    ({"tenant_shards": "dedicated", "tenant_key": "tenant"}, None, "needs a Qdrant server"),
    ({"shards": 2}, None, "need a Qdrant server"),
    ({"engine": "local", "storage": {"on_disk": True}}, None, "needs Qdrant Edge"),
    ({"engine": "nope"}, None, "engine 'nope' is unknown"),
    ({"payload_indexes": {"year": "number"}}, None, "payload_indexes"),
    ({}, "not models", "models"),
])
def test_a_refusal_at_open_leaves_no_folder_behind(tmp_path, options, models, named):
    """Refused before anything is made: the new folder is not created (before: a folder
    holding only a lock file was left where tenant_shards= or shards= was refused)."""
    folder = tmp_path / "new"
    with pytest.raises(ConfigurationError, match=named):
        HybridIndex("c", models, path=str(folder), **options)
    assert not folder.exists()
