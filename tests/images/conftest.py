"""The constructed CLIP-shaped pair (tiny_clip) and ColPali-shaped model (tiny_colpali), built once
per module, and what uses them."""

from __future__ import annotations

import pytest

from hybridstore import Models, ModelSpec

from . import tiny_colpali
from .tiny_clip import COLOURS, build, colour_image

VISION = "Qdrant/clip-ViT-B-32-vision"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """(Models with the pair as image model, colour -> path of a solid image of it)."""
    root = tmp_path_factory.mktemp("clip")
    vision, text = build(root)
    return Models(image=ModelSpec(VISION, "image", str(vision), {"text_path": str(text)})), \
        {name: str(colour_image(root / f"{name}.png", name)) for name in COLOURS}


# (row, column) cells coloured on a white page
LAYOUTS = {"one-red-one-blue": {(0, 0): "red", (3, 3): "blue"}, "all-red": {(r, c): "red" for r in range(4) for c in range(4)},
           "green-corner": {(3, 0): "green"}, "blank": {}}


@pytest.fixture(scope="module")
def colpali(tmp_path_factory):
    """(the page model's ModelSpec, page id -> PNG path of a page laid out as LAYOUTS says)."""
    root = tmp_path_factory.mktemp("colpali")
    spec = ModelSpec(tiny_colpali.NAME, "late_interaction_multimodal", str(tiny_colpali.build(root)))
    return spec, {name: str(tiny_colpali.page(root / f"{name}.png", cells)) for name, cells in LAYOUTS.items()}
