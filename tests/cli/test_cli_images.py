"""The command line with an image model (--image, offline from local folders): image files are
ingested beside text, searched from text and by image; broken and unasked-for images are
reported, not fatal. Uses the constructed CLIP-shaped pair of tests/images."""

from __future__ import annotations

import json
import os

import pytest
from PIL import Image

from hybridstore.cli import main

from ..images.tiny_clip import build, colour_image

VISION = "Qdrant/clip-ViT-B-32-vision"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    vision, text = build(tmp_path_factory.mktemp("clip"))
    return ["--image", VISION, "--image-path", str(vision), "--image-text-path", str(text)]


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_images_are_ingested_and_searched(tmp_path, pair, capsys):
    folder = tmp_path / "shop"
    folder.mkdir()
    for colour in ("red", "green", "blue"):
        colour_image(folder / f"{colour}.png", colour)
    (folder / "notes.txt").write_text("Opening hours: nine to five.")
    (folder / "broken.jpg").write_bytes(b"not a jpeg at all")
    Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(tmp_path / "noise.png")
    whole = (tmp_path / "noise.png").read_bytes()
    (folder / "truncated.png").write_bytes(whole[: len(whole) // 2])  # its header still reads
    store = ["--path", str(tmp_path / "index"), *pair]
    code, out, err = run(capsys, *store, "ingest", str(folder))
    assert code == 1  # a skipped input is exit 1, the rest is indexed
    assert "broken.jpg: not a readable image" in out + err and "truncated.png: not a readable image" in out + err
    code, out, _ = run(capsys, *store, "search", "a green picture", "-k", "1", "--mode", "image", "--json")
    hit = json.loads(out.splitlines()[0])
    assert hit["image"] == os.path.realpath(folder / "green.png") and hit["id"].endswith("green.png#image")
    code, out, _ = run(capsys, *store, "search", "opening hours", "-k", "1", "--json")  # multimodal default
    assert json.loads(out.splitlines()[0])["text"].startswith("Opening hours")
    query = colour_image(tmp_path / "q.png", "blue", size=(30, 12))
    code, out, _ = run(capsys, *store, "search", "", "--by-image", str(query), "-k", "1", "--json")
    assert code == 0 and json.loads(out.splitlines()[0])["image"] == os.path.realpath(folder / "blue.png")
    code, _, err = run(capsys, *store, "search", "opening hours", "--by-image", str(query))
    assert code == 2 and "give an empty query" in err  # the text would be ignored: refused
    code, out, _ = run(capsys, *store, "search", "blue", "--by-image", str(query), "--mode", "multimodal", "--json")
    assert code == 0 and json.loads(out.splitlines()[0])["image"] == os.path.realpath(folder / "blue.png")
    (folder / "red.png").unlink()
    (folder / "broken.jpg").unlink()
    (folder / "truncated.png").unlink()
    code, out, _ = run(capsys, *store, "ingest", str(folder), "--sync")  # a vanished image is removed
    assert code == 0 and "now holds 3" in out


def test_images_without_an_image_model_are_reported(tmp_path, capsys):
    picture = colour_image(tmp_path / "cat.png", "magenta")
    code, out, err = run(capsys, "--path", str(tmp_path / "index"), "ingest", str(picture))
    assert code == 1 and "pass --image MODEL to index images" in out + err
    code, _, err = run(capsys, "--path", str(tmp_path / "index"), "search", "", "--by-image", str(picture))
    assert code != 0 and "--by-image needs an image model" in err
    code, _, err = run(capsys, "--path", str(tmp_path / "index"), "--image-path", str(tmp_path), "search", "x")
    assert code != 0 and "need --image MODEL" in err
