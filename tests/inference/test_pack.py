"""`inference.pack`: a model pack is a folder whose models.json maps model names to folders
beside it; what is wrong with one is said with the way to point at the right folder, and names
are found whatever their case. Built in tmp_path (plus the shared pack as it is); no model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridstore.errors import ConfigurationError
from hybridstore.inference.pack import ENV_VAR, Pack, PackEntry, load_pack, pack_from_env


def make_pack(root: Path, models: dict, defaults: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for raw in models.values():
        if isinstance(raw, dict) and "folder" in raw:
            (root / raw["folder"]).mkdir(exist_ok=True)
    (root / "models.json").write_text(json.dumps({"models": models, **({"defaults": defaults} if defaults else {})}))
    return root


def test_a_pack_maps_names_to_entries_with_their_folders(tmp_path):
    root = make_pack(tmp_path / "p", {"org/Dense-Model": {"kind": "dense", "folder": "d", "dim": 8},
                                      "Qdrant/bm25": {"kind": "sparse", "folder": "s", "modifier": "idf"},
                                      "org/small": {"kind": "dense", "folder": "q", "quantize": "int8"}},
                     {"dense": "org/Dense-Model"})
    pack = load_pack(root)
    assert pack == Pack(root.resolve(), pack.entries, {"dense": "org/Dense-Model"})
    assert pack.entries["org/Dense-Model"] == PackEntry("org/Dense-Model", "dense", root.resolve() / "d", 8)
    assert pack.entries["Qdrant/bm25"].modifier == "idf" and pack.entries["org/small"].quantize == "int8"
    assert pack.find("ORG/dense-model") is pack.entries["org/Dense-Model"]  # names whatever their case
    assert pack.find("org/other") is None
    assert pack.names() == "org/Dense-Model (dense), Qdrant/bm25 (sparse), org/small (dense)"
    assert load_pack(tmp_path / "p" / ".." / "p").root == root.resolve()


def test_a_folder_without_a_manifest_says_where_to_point(tmp_path):
    with pytest.raises(ConfigurationError) as err:
        load_pack(tmp_path)
    assert str(err.value) == (f"model pack {tmp_path}, given as pack=, has no models.json; point pack= or "
                              f"${ENV_VAR} at the model pack's folder (the one holding models.json)")
    with pytest.raises(ConfigurationError, match=r"given as \$HYBRIDSTORE_MODELS, has no models.json: no such folder"):
        load_pack(tmp_path / "absent", f"${ENV_VAR}")
    with pytest.raises(ConfigurationError, match=rf"model pack {tmp_path}/x/\.\. \(that is {tmp_path}\)"):
        load_pack(tmp_path / "x" / "..")


@pytest.mark.parametrize("models, says", [
    ({"m": {"kind": "vision", "folder": "f"}}, "model 'm' has unknown kind 'vision'"),
    ({"m": {"kind": "dense", "folder": "gone"}}, "model 'm': folder .*gone does not exist"),
    ({"m": {"folder": "f"}}, "'kind'"),
    ([1, 2], "'list' object has no attribute 'items'"),  # "models" not a mapping
])
def test_a_malformed_manifest_names_the_file_and_the_fault(tmp_path, models, says):
    root = make_pack(tmp_path, models if isinstance(models, dict) else {})
    if not isinstance(models, dict):
        (root / "models.json").write_text(json.dumps({"models": models}))
    if "gone" in says:
        (root / "gone").rmdir()
    with pytest.raises(ConfigurationError, match=rf"model pack manifest {root / 'models.json'} is malformed: .*{says}"):
        load_pack(root)


def test_invalid_json_is_malformed_too(tmp_path):
    (tmp_path / "models.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match="is malformed"):
        load_pack(tmp_path)


def test_the_environment_names_the_pack(monkeypatch, tmp_path, pack):
    monkeypatch.setenv(ENV_VAR, str(pack))
    assert pack_from_env().root == pack.resolve()
    monkeypatch.delenv(ENV_VAR)
    assert pack_from_env() is None
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(ConfigurationError, match=rf"given as \${ENV_VAR}, has no models.json"):
        pack_from_env()
