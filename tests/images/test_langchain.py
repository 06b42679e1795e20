"""LangChain's image methods on HybridVectorStore, with the constructed CLIP-shaped pair."""

from __future__ import annotations

import pytest

from hybridstore import InvalidInputError
from hybridstore.langchain import HybridVectorStore

from .tiny_clip import colour_image


@pytest.fixture
def store(clip, tmp_path):
    models, _ = clip
    with HybridVectorStore("lc-images", models=models, path=str(tmp_path / "db")) as s:
        yield s


def test_add_images_and_search_them_from_text(store, clip):
    _, pictures = clip
    ids = store.add_images(list(pictures.values()), metadatas=[{"colour": c} for c in pictures], ids=list(pictures))
    assert ids == list(pictures)
    store.add_texts(["a note about the weather"], ids=["note"])
    for colour, path in pictures.items():
        doc = store.similarity_search(f"a {colour} picture", k=1, mode="image")[0]
        assert (doc.id, doc.metadata) == (colour, {"colour": colour, "image": path})
    default = store.similarity_search("a photo of a magenta thing", k=3)  # text + image vectors fused
    assert default[0].id == "magenta" and default[0].page_content == ""
    assert store.similarity_search("weather note", k=1, mode="hybrid")[0].id == "note"
    assert [d.id for d in store.get_by_ids(["red"])] == ["red"] and store.get_by_ids(["red"])[0].metadata["image"]


def test_similarity_search_by_image(store, clip, tmp_path):
    _, pictures = clip
    store.add_images(list(pictures.values()), texts=[f"swatch {i}" for i in range(len(pictures))])
    query = colour_image(tmp_path / "query.png", "cyan", size=(20, 50))
    hits = store.similarity_search_by_image(str(query), k=2)
    assert hits[0].metadata["image"] == pictures["cyan"] and hits[0].page_content.startswith("swatch")
    # metadata["image"] is kept beside the metadata; a filter on it means the image's source
    picked = store.similarity_search_by_image(str(query), k=2, filter={"image": pictures["red"]})
    assert [d.metadata["image"] for d in picked] == [pictures["red"]]
    store.add_texts(["a note about the weather"], ids=["note"])
    assert {d.id for d in store.similarity_search("weather", k=20, filter={"image": {"$exists": False}})} == {"note"}
    both = store.similarity_search_batch(["weather"], k=20, filter={"$or": [{"image": pictures["blue"]},
                                                                          {"image": pictures["green"]}]})
    assert sorted(d.metadata["image"] for d in both[0]) == sorted([pictures["blue"], pictures["green"]])
    store.delete(filter={"image": {"$in": [pictures["cyan"]]}})
    assert pictures["cyan"] not in {d.metadata.get("image") for d in store.similarity_search("x", k=20)}
    # a None caption is an image without text (docs/images.md passes one)
    store.add_images([pictures["cyan"]], texts=[None], ids=["uncaptioned"])
    assert store.get_by_ids(["uncaptioned"])[0].page_content == ""


async def test_async_twins(store, clip):
    _, pictures = clip
    await store.aadd_images([pictures["green"], pictures["blue"]], ids=["g", "b"])
    assert (await store.asimilarity_search_by_image(pictures["blue"], k=1))[0].id == "b"


def test_bad_input_is_refused(store, clip):
    _, pictures = clip
    with pytest.raises(InvalidInputError, match="not one path"):
        store.add_images(pictures["red"])
    with pytest.raises(InvalidInputError, match="metadata key 'image'"):
        store.add_images([pictures["red"]], metadatas=[{"image": "mine"}])
    with pytest.raises(InvalidInputError, match="2 images but 1 ids"):
        store.add_images([pictures["red"], pictures["blue"]], ids=["x"])
    with HybridVectorStore("plain") as plain:
        with pytest.raises(InvalidInputError, match="no image model"):
            plain.add_images([pictures["red"]])
