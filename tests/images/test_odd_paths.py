"""The paths users take first with images: upgrades, moved files, broken files, models without
a text tower, documents added back, the LlamaIndex image view on changed nodes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from llama_index.core.schema import ImageNode
from PIL import Image

from hybridstore import HybridIndex, InvalidInputError, Models, ModelSpec, Record
from hybridstore.errors import ConfigurationError
from hybridstore.langchain import HybridVectorStore as LangChainStore
from hybridstore.llama_index import HybridVectorStore as LlamaStore
from hybridstore.records import Hit
from hybridstore.tools import _format

from .tiny_clip import colour_image


def test_adding_an_image_model_re_embeds_no_text_record(clip, records, tmp_path):
    models, _ = clip
    folder = str(tmp_path / "db")
    with HybridIndex("up", Models(), path=folder) as index:
        index.add(records)
    with HybridIndex("up", models, path=folder) as index:
        index.reembed()  # adds the image vector: no stored record has an image
        index.add(records)
        assert index.stats == {"embedded": 0, "unchanged": len(records), "payload_only": 0}


def test_a_moved_image_updates_its_path_without_embedding(clip, tmp_path):
    models, pictures = clip
    moved = tmp_path / "moved.png"
    moved.write_bytes(Path(pictures["red"]).read_bytes())
    with HybridIndex("pics", models, path=str(tmp_path / "db")) as index:
        index.add([Record("r", "", image=pictures["red"])])
        index.add([Record("r", "", image=str(moved))])
        assert index.stats == {"embedded": 0, "unchanged": 0, "payload_only": 1}
        assert index.get(["r"])[0].image == str(moved)


def test_a_broken_image_is_refused_before_anything_is_written(clip, tmp_path):
    models, pictures = clip
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    with HybridIndex("pics", models, path=str(tmp_path / "db")) as index:
        with pytest.raises(InvalidInputError, match="cannot be read"):
            index.add([Record("ok", "", image=pictures["red"]), Record("bad", "", image=str(broken))])
        with pytest.raises(InvalidInputError, match="cannot be read"):
            index.add([Record("bytes", "", image=b"\x89PNG but not really")])
        noise = io.BytesIO()
        Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(noise, format="PNG")
        with pytest.raises(InvalidInputError, match="cannot be read"):  # its header reads, its pixels not
            index.add([Record("cut", "", image=noise.getvalue()[: len(noise.getvalue()) // 2])])
        assert index.count() == 0
    with HybridIndex("texts", Models(), path=str(tmp_path / "db2")) as plain:
        with pytest.raises(InvalidInputError, match="no image model"):
            plain.add([Record(str(i), f"text {i}") for i in range(300)] + [Record("pic", "", image=pictures["red"])])
        assert plain.info()["exists"] is False  # refused before the collection was made


def test_an_image_model_without_a_text_tower(clip, tmp_path):
    models, pictures = clip
    vision = models.image.spec.path  # the constructed image tower, under a name with no text tower
    only_images = Models(image=ModelSpec("Qdrant/resnet50-onnx", "image", vision))
    with HybridIndex("resnet", only_images, path=str(tmp_path / "db")) as index:
        index.add([Record(c, f"a swatch called {c}", image=p) for c, p in pictures.items()])
        assert index.search("swatch called cyan", 1)[0].record.id == "cyan"  # text search: text vectors
        assert index.search("", 1, image=pictures["cyan"])[0].record.id == "cyan"
        with pytest.raises(ConfigurationError, match="no text model"):
            index.search("cyan", 1, mode="image")


def test_text_only_options_keep_the_text_search(clip, tmp_path):
    _, pictures = clip
    vision, text = clip[0].image.spec.path, clip[0].image.spec.options["text_path"]
    models = Models(late_interaction="colbert-ir/colbertv2.0",
                    image=ModelSpec("Qdrant/clip-ViT-B-32-vision", "image", vision, {"text_path": text}))
    with HybridIndex("opts", models, path=str(tmp_path / "db")) as index:
        index.add([Record("shoe", "a leather shoe", image=pictures["red"]), Record("hat", "a wool hat")])
        assert index.search("leather shoe", 1, rerank=True)[0].record.id == "shoe"  # hybrid + rerank
        assert index.search("leather shoe", 1, weights=(1.0, 1.0))[0].record.id == "shoe"  # hybrid, RRF
        assert index.search("red leather shoe", 2, weights=(1.0, 1.0, 1.0))[0].record.id == "shoe"


def test_documents_added_back_keep_their_image(clip, tmp_path):
    models, pictures = clip
    with LangChainStore("lc", models=models, path=str(tmp_path / "db")) as store:
        store.add_images([pictures["green"]], ids=["g"], texts=["a swatch"])
        docs = store.similarity_search("swatch", k=1, mode="hybrid")
        store.add_documents(docs)  # as a user re-indexes what search returned
        assert store.similarity_search("green", k=1, mode="image")[0].id == "g"
        assert store.index.stats["embedded"] == 0  # nothing embedded again (doc_id: the image path, then none)


def test_a_langchain_store_without_an_image_model_shows_and_filters_metadata_only(clip, tmp_path):
    """metadata["image"] means the image's source only where the store has an image model;
    elsewhere it is a plain metadata key, and documents show and filter the same thing."""
    models, pictures = clip
    with LangChainStore("lc", models=models, path=str(tmp_path / "db")) as store:
        store.add_images([pictures["red"]], ids=["red"], texts=["a red swatch"])
    with LangChainStore("lc", models=Models(), path=str(tmp_path / "db")) as store:
        assert store.similarity_search("red swatch", k=1, mode="hybrid")[0].metadata == {}
        store.add_texts(["a company logo"], metadatas=[{"image": "logo.png"}], ids=["logo"])
        found = store.similarity_search("swatch logo", k=5, mode="hybrid", filter={"image": "logo.png"})
        assert [(d.id, d.metadata) for d in found] == [("logo", {"image": "logo.png"})]


def test_search_tool_output_names_the_image(clip):
    _, pictures = clip
    out = _format([Hit(Record("g", "", {}, image=pictures["green"]), 1.0, 0.9)])
    assert f"image {pictures['green']}" in out


def test_llama_index_stores_without_an_image_model_keep_image_nodes_as_text(tmp_path, clip):
    _, pictures = clip
    with LlamaStore("plain", Models(), path=str(tmp_path / "db")) as store:
        node = ImageNode(id_="n", text="a caption", image_path=pictures["red"], metadata={"k": 1})
        store.add([node])
        back = store.get_nodes(["n"])[0]
        assert isinstance(back, ImageNode) and back.image_path == pictures["red"] and back.text == "a caption"
        assert store.index.get(["n"])[0].image is None


def test_llama_index_image_view_rewrites_changed_nodes(clip, tmp_path):
    models, pictures = clip
    with LlamaStore("mm", models, path=str(tmp_path / "db"), search_options={"weights": (0.5, 0.5)}) as store:
        store.add([ImageNode(id_="n", text="old caption", image_path=pictures["red"])])
        view = store.images()
        view.add([ImageNode(id_="n", image_path=pictures["red"])])  # the caption was removed
        assert store.index.get(["n"])[0].text == ""
        view.add([ImageNode(id_="n", image_path=pictures["blue"])])  # another picture
        from llama_index.core.vector_stores.types import VectorStoreQuery

        assert view.query(VectorStoreQuery(query_str="blue", similarity_top_k=1)).ids == ["n"]
        moved = colour_image(tmp_path / "same-blue.png", "blue")
        view.add([ImageNode(id_="n", image_path=str(moved))])
        assert store.index.get(["n"])[0].image == str(moved)


def test_reembed_fills_image_vectors_from_stored_paths(clip, tmp_path):
    models, pictures = clip
    folder = str(tmp_path / "db")
    with HybridIndex("pics", models, path=folder) as index:
        index.add([Record(c, f"{c} swatch", image=p) for c, p in pictures.items()]
                  + [Record("raw", "", image=Path(pictures["red"]).read_bytes())])  # bytes: not readable again
    with HybridIndex("pics", Models(), path=folder) as texts:
        texts.drop_vector("image")
    with HybridIndex("pics", models, path=folder) as index:
        assert index.reembed() == {"dense": 0, "sparse": 0, "image": len(pictures)}
        lacking = {v["name"]: v["lacking"] for v in index.info()["vectors"]}
        assert lacking["image"] == 1  # the image given as bytes: named, not dropped silently
        from hybridstore.errors import MissingVectorsError

        with pytest.raises(MissingVectorsError, match="images given as bytes must be added again"):
            index.search("red", 1, mode="image")
        index.add([Record("raw", "", image=Path(pictures["red"]).read_bytes())])  # as the error says
        assert index.search("a yellow thing", 1, mode="image")[0].record.id == "yellow"
