"""`qdrant.layouts`: where a record's text, metadata and ids sit in a point's payload, in the
canonical layout (hybridstore's, langchain-qdrant's keys) and the llama_index one
(llama-index-vector-stores-qdrant's), both ways; payloads the anchor libraries write are read,
and what we write in their layout is read by them."""

from __future__ import annotations

import hashlib
import json

import pytest
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from hybridstore import Record
from hybridstore.errors import ConfigurationError
from hybridstore.qdrant.layouts import CANONICAL, LAYOUTS, get_layout

LLAMA = LAYOUTS["llama_index"]
META = {"topic": "music", "year": 2019, "tags": ["a", "b"], "author": {"name": "Ana"}, "note": "ç ✓"}


def test_canonical_payload_has_the_documented_keys_and_round_trips():
    record = Record("guitar-1", "A man plays a guitar.", dict(META), doc_id="doc-1", extras={"rel": {"1": "x"}})
    payload = CANONICAL.to_payload(record)
    assert payload == {"page_content": "A man plays a guitar.", "metadata": META, "doc_id": "doc-1",
                       "id": "guitar-1", "node": {"rel": {"1": "x"}}}
    assert CANONICAL.to_record(payload, "0b0f-point-id") == record


def test_canonical_reads_langchain_qdrant_payloads_by_the_point_id():
    """langchain-qdrant writes page_content and metadata only: the id is the point's."""
    back = CANONICAL.to_record({"page_content": "text", "metadata": {"k": 1}}, "5d7c1f7e-0000-4000-8000-000000000000")
    assert back == Record("5d7c1f7e-0000-4000-8000-000000000000", "text", {"k": 1})
    empty = CANONICAL.to_record({"metadata": None}, 7)
    assert (empty.id, empty.text, empty.metadata, empty.doc_id, empty.extras) == ("7", "", {}, None, None)


def test_canonical_keeps_an_images_source_never_its_bytes(tmp_path):
    path = str(tmp_path / "cat.png")
    with_text = CANONICAL.to_payload(Record("a", "a cat", image=path))
    assert with_text["image"] == path and "image_only" not in with_text
    data = b"\x89PNG not really"
    alone = CANONICAL.to_payload(Record("b", "  ", image=data))
    assert alone["image"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert alone["image_only"] is True  # no text: no text vectors
    assert data not in json.dumps(alone).encode()
    assert CANONICAL.to_record(with_text, "x").image == path
    assert "image" not in CANONICAL.to_payload(Record("c", "no image"))


def test_llama_index_payload_is_flat_metadata_beside_the_node():
    record = Record("node-1", "Some text.", dict(META), doc_id="ref-9")
    payload = LLAMA.to_payload(record)
    assert {k: payload[k] for k in META} == META
    assert (payload["doc_id"], payload["document_id"], payload["ref_doc_id"]) == ("ref-9",) * 3
    assert payload["_node_type"] == "TextNode"
    node = json.loads(payload["_node_content"])
    assert (node["id_"], node["text"], node["metadata"], node["embedding"]) == ("node-1", "Some text.", META, None)
    assert "note" in payload and "ç ✓" in payload["_node_content"]  # not escaped: the text as written

    back = LLAMA.to_record(payload, "point-uuid")
    assert (back.id, back.text, back.metadata, back.doc_id) == ("node-1", "Some text.", META, "ref-9")
    assert back.extras["class_name"] == "TextNode" and back.extras["node_dict"]["id_"] == "node-1"
    again = LLAMA.to_payload(back)  # the node read back writes the same payload
    assert again == payload


def test_llama_index_without_a_source_document_writes_the_string_none():
    payload = LLAMA.to_payload(Record("n", "t"))
    assert payload["doc_id"] == payload["ref_doc_id"] == "None"  # as llama-index writes it
    assert LLAMA.to_record(payload, "p").doc_id is None


def test_llama_index_refuses_metadata_keys_its_layout_uses():
    for key in ("doc_id", "_node_content", "ref_doc_id", "_hybridstore_hash"):
        with pytest.raises(ConfigurationError, match=rf"metadata keys \['{key}'\] are reserved in the "
                                                     "llama_index layout"):
            LLAMA.to_payload(Record("n", "t", {key: 1, "fine": 2}))


def test_what_llama_index_writes_is_read_and_what_we_write_it_reads():
    node = TextNode(text="From llama-index.", id_="li-1", metadata={"topic": "x", "n": 3})
    payload = node_to_metadata_dict(node, remove_text=False, flat_metadata=False)
    back = LLAMA.to_record(payload, "point")
    assert (back.id, back.text, back.metadata, back.doc_id) == ("li-1", "From llama-index.", {"topic": "x", "n": 3}, None)

    ours = LLAMA.to_payload(Record("ours-1", "Written by hybridstore.", {"topic": "y"}, doc_id="d"))
    theirs = metadata_dict_to_node(ours)
    assert (theirs.node_id, theirs.get_content(), theirs.metadata) == \
        ("ours-1", "Written by hybridstore.", {"topic": "y"})


def test_llama_index_reads_flat_metadata_when_the_node_has_none():
    payload = {"topic": "z", "year": 1, "_node_content": json.dumps({"id_": "n1", "text": "t"}),
               "_node_type": "TextNode", "doc_id": "None", "document_id": "None", "ref_doc_id": "None",
               "_hybridstore_hash": "abc"}
    back = LLAMA.to_record(payload, "p")
    assert back.metadata == {"topic": "z", "year": 1}  # the layout's own keys left out
    assert (back.id, back.text) == ("n1", "t")
    assert LLAMA.to_record({}, "pid").id == "pid"  # no node at all: the point's id, empty text


def test_layouts_by_name():
    assert get_layout("canonical") is CANONICAL and get_layout("llama_index") is LLAMA
    assert (CANONICAL.metadata_prefix, LLAMA.metadata_prefix) == ("metadata.", "")
    for bad in ("langchain", ["canonical"], None):
        with pytest.raises(ConfigurationError, match=r"payload layout .* is unknown; use one of canonical, llama_index"):
            get_layout(bad)
