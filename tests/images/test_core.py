"""Images in the core, with a constructed CLIP-shaped pair (tiny_clip) whose right answers are
known: colour words and images of those colours share directions. Runs on the engine of
$HYBRIDSTORE_ENGINE (make test runs edge, then local mode)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from hybridstore import HybridIndex, Models, ModelSpec, Record
from hybridstore.errors import InvalidInputError, SchemaMismatchError

from .tiny_clip import COLOURS, colour_image

VISION = "Qdrant/clip-ViT-B-32-vision"


@pytest.fixture(scope="module")
def image_models(clip):
    return clip[0]


def products(pictures):
    """Shoes and hats in colours: the text tells the product, the image the colour."""
    return [Record(f"{c}-{kind}", f"a leather {kind}" if kind == "shoe" else f"a wool {kind}", {"colour": c},
                   image=pictures[c]) for c in ("red", "blue", "green") for kind in ("shoe", "hat")]


def test_text_to_image_ranks_the_matching_colour_first(image_models, clip, tmp_path):
    _, pictures = clip
    with HybridIndex("pics", image_models, path=str(tmp_path / "db")) as index:
        index.add([Record(c, "", image=p) for c, p in pictures.items()])  # images alone, no text
        for colour in COLOURS:
            hits = index.search(f"a photo of a {colour} thing", 3)
            assert hits[0].record.id == colour, (colour, [h.record.id for h in hits])
            assert hits[0].record.image == pictures[colour] and hits[0].record.text == ""
        assert {v["name"]: v["points"] for v in index.info()["vectors"]} == {"dense": 0, "sparse": 0, "image": 8}


def test_image_to_image_by_path_bytes_and_pil(image_models, clip, tmp_path):
    _, pictures = clip
    with HybridIndex("pics", image_models, path=str(tmp_path / "db")) as index:
        index.add([Record(c, f"item {c}", image=p) for c, p in pictures.items()])
        query = colour_image(tmp_path / "q.png", "yellow", size=(40, 24))  # another size than the stored ones
        buffer = io.BytesIO()
        Image.open(query).save(buffer, format="PNG")
        for given in (query, str(query), buffer.getvalue(), Image.open(query)):
            hits = index.search("", 2, image=given)
            assert hits[0].record.id == "yellow", type(given)


def test_multimodal_fuses_text_and_image_in_the_engine(clip, tmp_path):
    models, pictures = clip
    with HybridIndex("shop", models, path=str(tmp_path / "db")) as index:
        index.add(products(pictures))
        # the text finds shoes (dense and BM25), the image the red items: only fusion has both
        hits = index.search("red leather shoe", 6)
        assert hits[0].record.id == "red-shoe", [h.record.id for h in hits]
        assert index.search("red leather shoe", 2, mode="image")[0].record.id.startswith("red")
        assert {h.record.id for h in index.search("leather shoe", 3, mode="hybrid")} >= {"red-shoe", "blue-shoe"}
        assert index.search("red leather shoe", 6, fuse=("sparse", "image"))[0].record.id == "red-shoe"
        # RRF ranks: BM25 ties the three shoes in any order, so the image's weight must decide
        by_weight = index.search("red leather shoe", 6, fuse=("sparse", "image"), fusion="rrf", weights=(0.1, 3.0))
        assert by_weight[0].record.id.startswith("red")
        assert index.search("red", 2, mode="image", filter={"colour": "blue"})[0].record.id.startswith("blue")
        batch = index.search_batch(["red leather shoe", "green wool hat"], 1)  # multimodal, one request
        assert [hits[0].record.id for hits in batch] == ["red-shoe", "green-hat"]
        assert [hits[0].record.id[:4] for hits in index.search_batch(["blue", "green"], 1, mode="image")] == ["blue", "gree"]


def test_text_records_and_images_share_a_collection(image_models, clip, records, tmp_path):
    _, pictures = clip
    models = Models(image=image_models.image.spec)
    with HybridIndex("mixed", models, path=str(tmp_path / "db")) as index:
        index.add(records + [Record("red", "", image=pictures["red"]), Record("blue", "a blue square", image=pictures["blue"])])
        assert index.search("guitar on the street", 1, mode="hybrid")[0].record.id == "guitar-1"
        image_hits = index.search("a red thing", 10, mode="image")
        assert {h.record.id for h in image_hits} == {"red", "blue"}  # only points with an image
        assert index.stats["embedded"] == len(records) + 2
        index.add([Record("blue", "a blue square", image=pictures["blue"])])
        assert index.stats["unchanged"] == 1
        index.add([Record("blue", "a blue square", image=pictures["green"])])  # another picture
        assert index.stats["embedded"] == 1
        assert index.search("green", 1, mode="image")[0].record.id == "blue"


def test_bad_images_and_modes_are_refused_with_nothing_written(image_models, clip, tmp_path):
    _, pictures = clip
    with HybridIndex("pics", image_models, path=str(tmp_path / "db")) as index:
        index.add([Record("red", "", image=pictures["red"])])
        for bad, says in ((tmp_path / "missing.png", "does not exist"), ("https://x.org/a.png", "URL"),
                          (123, "file path, bytes, a PIL image or a PdfPage")):
            with pytest.raises(InvalidInputError, match=says):
                index.add([Record("ok", "fine", image=pictures["blue"]), Record("bad", "", image=bad)])
        with pytest.raises(InvalidInputError, match="text is empty"):
            index.add([Record("nothing", "")])
        assert [r.id for r in index.get()] == ["red"]
        with pytest.raises(InvalidInputError, match="rerank"):
            index.search("red", 1, mode="image", rerank=True)
        with pytest.raises(InvalidInputError, match="query image"):
            index.search("red", 1, mode="hybrid", image=pictures["red"])
        with pytest.raises(InvalidInputError, match="text is empty"):
            index.search("", 1, mode="multimodal", image=pictures["red"])
    with HybridIndex("texts", Models(), path=str(tmp_path / "db2")) as plain:
        with pytest.raises(InvalidInputError, match="no image model"):
            plain.add([Record("red", "a red thing", image=pictures["red"])])


def test_an_image_collection_keeps_its_models(image_models, clip, tmp_path):
    _, pictures = clip
    vision, text = image_models.image.spec.path, image_models.image.spec.options["text_path"]
    folder = str(tmp_path / "db")
    with HybridIndex("pics", image_models, path=folder) as index:
        index.add([Record(c, f"{c} item", image=p) for c, p in pictures.items()])
        stored = {v["name"]: v for v in index.info()["vectors"]}
        assert stored["image"]["kind"] == "image" and stored["image"]["size"] == len(COLOURS)
    with HybridIndex("pics", Models(), path=folder) as texts_only:  # the image vector is optional
        texts_only.add([Record("note", "a text without a picture")])
        assert texts_only.search("text without a picture", 1)[0].record.id == "note"
    other = Models(image=ModelSpec(VISION, "image", str(vision), {"text_model": "Qdrant/clip-ViT-B-32-text",
                                                                 "text_path": str(text), "batch_size": 2}))
    with HybridIndex("pics", other, path=folder) as same:
        assert same.search("a photo of a cyan thing", 1, mode="image")[0].record.id == "cyan"
    with HybridIndex("pics", Models(late_interaction="colbert-ir/colbertv2.0", image=image_models.image.spec),
                     path=folder) as more:
        with pytest.raises(SchemaMismatchError):
            more.add([Record("x", "y")])


def test_the_images_example_indexes_a_folder_with_captions(clip, tmp_path):
    import importlib.util
    from pathlib import Path

    models, _ = clip
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, caption in (("red", "a leather shoe"), ("blue", "a leather shoe"), ("green", "")):
        colour_image(folder / f"{name}.png", name)
        if caption:
            (folder / f"{name}.txt").write_text(caption)
    example = Path(__file__).resolve().parents[2] / "examples" / "images_search.py"
    spec = importlib.util.spec_from_file_location("images_search", example)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    spec_ = models.image.spec
    out = module.main(str(folder), "red leather shoe", spec_.path, spec_.options["text_path"], path=str(tmp_path / "db"))
    assert out["multimodal"][0].id == "red" and out["multimodal"][0].text == "a leather shoe"
    assert [r.id for r in out["image"]][:1] == ["red"] and out["image"][0].image.endswith("red.png")
    assert module.models().image.spec.name == module.CLIP  # the real pair by name (loads on first use)


def test_grouping_tenants_and_reembed_hold_for_images(image_models, clip, tmp_path):
    _, pictures = clip
    with HybridIndex("shop", image_models, path=str(tmp_path / "db"), tenant_key="tenant") as index:
        index.add(products(pictures))
        grouped = index.search("red", 3, mode="image", group_by="colour")
        assert next(h.record.metadata["colour"] for h in grouped) == "red" and len({h.record.metadata["colour"] for h in grouped}) == 3
        a, b = index.tenant("a"), index.tenant("b")
        a.add([Record("mine", "", image=pictures["white"])])
        assert [h.record.id for h in a.search("white", 5, mode="image")] == ["mine"]
        assert "mine" not in {h.record.id for h in b.search("white", 5, mode="image")}
    texts_only = Models()  # a collection written without images gets its image vectors by reembed()
    folder = str(tmp_path / "db2")
    with HybridIndex("later", texts_only, path=folder) as index:
        index.add([Record("note", "plain text")])
    with HybridIndex("later", image_models, path=folder) as index:
        assert index.reembed() == {"dense": 0, "sparse": 0, "image": 0}  # no point has an image yet
        index.add([Record("pic", "a caption", image=pictures["black"])])
        assert index.search("black", 1, mode="image")[0].record.id == "pic"
