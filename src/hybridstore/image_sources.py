"""The images records carry: checks, the source a payload keeps and the digest a content hash
takes. A leaf (no model code), so the payload layer and the image models both build on it."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import IO

from PIL import Image

from .errors import InvalidInputError

# What a record's image may be: a file path, its bytes or a PIL image.
ImageInput = str | Path | bytes | bytearray | Image.Image


def check_image(who: str, image: object) -> None:
    """A record's image: a file path (str or Path) that exists, bytes, or a PIL image."""
    if isinstance(image, (str, Path)):
        text = str(image)
        if "://" in text:
            raise InvalidInputError(f"{who}: image {text!r} is a URL; hybridstore "
                                    "reads local files only: download it first and give the path")
        if not Path(text).is_file():
            raise InvalidInputError(f"{who}: image file {text!r} does not exist")
    elif not isinstance(image, (bytes, bytearray, Image.Image)):
        raise InvalidInputError(f"{who}: image must be a file path, bytes or a PIL "
                                f"image, got {type(image).__name__}")
    if not isinstance(image, Image.Image):
        _readable(who, image)


def _readable(who: str, image: str | Path | bytes | bytearray) -> None:
    """The file or bytes decode as an image (every pixel: a truncated JPEG passes a header check
    and would fail half-way through an add)."""
    try:
        with Image.open(io.BytesIO(image) if isinstance(image, (bytes, bytearray)) else image) as opened:
            opened.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:  # what PIL raises for bad data
        raise InvalidInputError(f"{who}: the image cannot be read ({e}); give a PNG, JPEG, WebP "
                                "or another format Pillow opens") from e


def source(image: ImageInput) -> str:
    """What the payload keeps of an image: its path, else a digest of its bytes (never the bytes)."""
    return str(image) if isinstance(image, (str, Path)) else f"sha256:{digest(image)}"


def digest(image: ImageInput) -> str:
    """The image's content: a changed file re-embeds, a renamed copy does not. A stored
    source read back (a digest, or a path gone since) stands for itself."""
    if isinstance(image, str) and image.startswith("sha256:"):
        return image[len("sha256:"):]
    if isinstance(image, (str, Path)):
        if not Path(image).is_file():
            return f"missing:{image}"
        data = Path(image).read_bytes()
    elif isinstance(image, (bytes, bytearray)):
        data = bytes(image)
    else:
        data = image.tobytes() + repr((image.mode, image.size)).encode()
    return hashlib.sha256(data).hexdigest()


def openable(image: ImageInput) -> str | IO[bytes] | Image.Image:
    """What fastembed opens: paths as str, bytes wrapped in a file object, PIL images as they are."""
    if isinstance(image, (str, Path)):
        return str(image)
    if isinstance(image, (bytes, bytearray)):
        return io.BytesIO(bytes(image))
    return image
