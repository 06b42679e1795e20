"""Model signatures: the fingerprint of a model's files and the rules that compare two."""

from pathlib import Path

from hybridstore.inference.fingerprint import WHOLE, fingerprint
from hybridstore.qdrant.signature import caller, compare, label

MINILM = {"source": "fastembed", "kind": "dense", "model": "sentence-transformers/all-MiniLM-L6-v2",
          "dim": 384, "modifier": None, "options": {}, "fingerprint": "sha256:aa"}


def test_fingerprint_follows_content_names_and_sizes(tmp_path: Path):
    small, big = tmp_path / "tokenizer.json", tmp_path / "model.onnx"
    small.write_bytes(b"{}")
    big.write_bytes(bytes(WHOLE + 1))
    first = fingerprint(tmp_path, [small, big])
    assert first == fingerprint(tmp_path, [small, big]) and first.startswith("sha256:")
    small.write_bytes(b"{ }")
    assert fingerprint(tmp_path, [small, big]) != first
    small.write_bytes(b"{}")
    with open(big, "r+b") as fh:  # a large file is sampled: its first bytes are always read
        fh.write(b"\x01")
    assert fingerprint(tmp_path, [small, big]) != first


def test_fastembed_models_are_compared_by_fingerprint_then_options():
    assert compare(MINILM, dict(MINILM)) == (None, True)
    assert compare(MINILM, {**MINILM, "model": "renamed"}) == (None, True)  # same files
    assert compare(MINILM, {**MINILM, "fingerprint": "sha256:bb"})[0] == "other weights under the same name"
    assert compare(MINILM, {**MINILM, "model": "x", "fingerprint": "sha256:bb"})[0] == "another model"
    assert compare(MINILM, {**MINILM, "options": {"max_length": 128}})[0] == "other model options"
    assert compare(MINILM, {**MINILM, "dim": 768})[0] == "another dimension"
    assert compare({**MINILM, "fingerprint": None}, {**MINILM, "fingerprint": None}) == (None, True)
    sparse = {**MINILM, "kind": "sparse", "dim": None, "modifier": "idf"}
    assert compare(sparse, {**sparse, "modifier": None})[0] == "another sparse modifier"
    assert compare(MINILM, sparse)[0] == "another kind of model"


def test_caller_models_are_compared_by_what_can_be_known():
    own = {"source": "external", "kind": "dense", "class": "pkg.Emb", "model": "m1", "dim": 8}
    assert compare(own, dict(own)) == (None, True)
    assert compare(own, {**own, "model": "m2"})[0] == "another model"
    assert compare(own, {**own, "class": "pkg.Other"})[0] == "another embedding class"
    assert compare({**own, "model": None}, {**own, "model": None}) == (None, False)  # cannot tell
    assert compare(MINILM, own)[0] == "another dimension"
    assert compare({**MINILM, "dim": 8}, own)[0] == "another kind of source"
    assert compare(caller(8), caller(8)) == (None, False)
    assert "passed in by the caller" in label(caller(8)) and "'m1'" in label(own)
    assert "all-MiniLM-L6-v2" in label(MINILM) and "sha256:aa" in label(MINILM)
