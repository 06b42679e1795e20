"""Index a folder of images with their captions, then search it from text (and by image).

Each image (.png, .jpg, .jpeg, .webp) becomes one record: its image vector from a CLIP-style
model, and, when a caption file sits beside it (photo.png + photo.txt), the caption's dense
and BM25 vectors in the same point. A text query then fuses all three in the engine.

With network access, the real model loads by name:
    python examples/images_search.py photos/ "a dog on a beach"
        (Qdrant/clip-ViT-B-32-vision with its text tower Qdrant/clip-ViT-B-32-text)
Offline, point it at local model folders (tests use a tiny constructed pair):
    python examples/images_search.py photos/ "a red thing" --vision DIR --text DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hybridstore import HybridIndex, Models, ModelSpec, Record

SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
CLIP = "Qdrant/clip-ViT-B-32-vision"


def models(vision: str | None = None, text: str | None = None) -> Models:
    """The pack's text models plus CLIP: by name, or from local folders."""
    options = {"text_path": text} if text else {}
    return Models(image=ModelSpec(CLIP, "image", vision, options) if vision else CLIP)


def records(folder: Path) -> list[Record]:
    out = []
    for image in sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES):
        caption = image.with_suffix(".txt")
        text = caption.read_text(encoding="utf-8", errors="replace").strip() if caption.is_file() else ""
        out.append(Record(image.stem, text, {"file": image.name}, image=str(image)))
    return out


def main(folder: str, query: str, vision: str | None = None, text: str | None = None, k: int = 3,
         path: str | None = None) -> dict:
    with HybridIndex("images", models(vision, text), path=path or str(Path(folder) / ".hybridstore")) as index:
        index.add(records(Path(folder)))
        found = {"multimodal": index.search(query, k),  # captions and pictures, fused in the engine
                 "image": index.search(query, k, mode="image")}  # the pictures alone
        for mode, hits in found.items():
            print(f"{mode}:", ", ".join(f"{h.record.id} ({h.relevance:.2f})" for h in hits))
        return {mode: [h.record for h in hits] for mode, hits in found.items()}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder")
    p.add_argument("query")
    p.add_argument("--vision", help="local folder of the image model (offline)")
    p.add_argument("--text", help="local folder of its text model (offline)")
    p.add_argument("-k", type=int, default=3)
    a = p.parse_args()
    main(a.folder, a.query, a.vision, a.text, a.k)
