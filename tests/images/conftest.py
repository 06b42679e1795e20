"""The constructed CLIP-shaped pair (tiny_clip), built once per module, and Models using it."""

from __future__ import annotations

import pytest

from hybridstore import Models, ModelSpec

from .tiny_clip import COLOURS, build, colour_image

VISION = "Qdrant/clip-ViT-B-32-vision"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """(Models with the pair as image model, colour -> path of a solid image of it)."""
    root = tmp_path_factory.mktemp("clip")
    vision, text = build(root)
    return Models(image=ModelSpec(VISION, "image", str(vision), {"text_path": str(text)})), \
        {name: str(colour_image(root / f"{name}.png", name)) for name in COLOURS}
