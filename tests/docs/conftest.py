"""The docs' tests: a model pack with an image model, so every doc runs offline as written."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="session")
def docs_pack(tmp_path_factory, pack):
    """The offline pack plus the constructed CLIP pair and ColPali-shaped model under their
    real names, so the images docs run as written."""
    from tests.images import tiny_colpali
    from tests.images.tiny_clip import build

    root = tmp_path_factory.mktemp("docs-pack")
    vision, text = build(root)
    manifest = json.loads((pack / "models.json").read_text())
    models = {name: {**entry, "folder": str((pack / entry["folder"]).resolve())}
              for name, entry in manifest["models"].items()}
    models["Qdrant/clip-ViT-B-32-vision"] = {"kind": "image", "folder": str(vision)}
    models["Qdrant/clip-ViT-B-32-text"] = {"kind": "dense", "folder": str(text)}
    models[tiny_colpali.NAME] = {"kind": "late_interaction_multimodal", "folder": str(tiny_colpali.build(root))}
    (root / "models.json").write_text(json.dumps({"models": models, "defaults": manifest["defaults"]}))
    return root
