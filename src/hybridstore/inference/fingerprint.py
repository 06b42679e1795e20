"""What made a vector: a model's signature, with a fingerprint of the files that decide it.

A signature is plain JSON, stored with the collection (`qdrant.signature`), so that opening a
collection with other weights under the same name (a pack's ColBERT-shaped MiniLM vs the real
"colbert-ir/colbertv2.0") is an error instead of a silent mix of vector spaces.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

# Files besides the ONNX graph that change vectors: tokenizers, configs, vocabularies, stopwords.
DECIDING = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "vocab.txt", "tokenizer.model", "sentencepiece.bpe.model")
# Options that change how fast a model runs, not what it outputs.
RUNTIME_OPTIONS = frozenset({"threads", "providers", "cuda", "device_ids", "device_id", "lazy_load",
                             "cache_dir", "local_files_only", "specific_model_path"})
WHOLE = 8 << 20  # files up to 8 MiB are hashed whole; larger ones by size and 64 spread samples
SAMPLES, SAMPLE = 64, 64 << 10

_cache: dict[tuple[tuple[str, int, int], ...], str] = {}  # (file, size, mtime) -> fingerprint
_lock = threading.Lock()


def model_files(inner: object) -> tuple[Path | None, list[Path]]:
    """The folder of a loaded fastembed model and the files that decide its vectors."""
    where = getattr(inner, "_model_dir", None)
    if where is None:
        return None, []
    folder = Path(where)
    description = getattr(inner, "model_description", None)
    names = [getattr(description, "model_file", None), *(getattr(description, "additional_files", None) or [])]
    files = [folder / n for n in names if n]
    files += [folder / n for n in DECIDING if (folder / n).is_file()]
    files += sorted(p for p in folder.glob("*.txt") if p.name != "vocab.txt")  # stopwords
    return folder, [f for f in dict.fromkeys(files) if f.is_file()]


def fingerprint(folder: Path, files: list[Path]) -> str:
    """sha256 over each file's name, size and content (large files: 64 spread samples)."""
    stats = [(f, f.stat()) for f in files]
    key = tuple((str(f), s.st_size, s.st_mtime_ns) for f, s in stats)
    with _lock:
        if key in _cache:
            return _cache[key]
    digest = hashlib.sha256()
    for f, s in stats:
        digest.update(f"{f.relative_to(folder).as_posix()}\0{s.st_size}\0".encode())
        with open(f, "rb") as fh:
            if s.st_size <= WHOLE:
                digest.update(fh.read())
                continue
            for i in range(SAMPLES):
                fh.seek((s.st_size - SAMPLE) * i // (SAMPLES - 1))
                digest.update(fh.read(SAMPLE))
    value = "sha256:" + digest.hexdigest()[:32]
    with _lock:
        _cache[key] = value
    return value


def vector_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options that change a model's vectors, as JSON-safe values."""
    return {k: v if isinstance(v, (str, int, float, bool, type(None))) else repr(v)
            for k, v in sorted(options.items()) if k not in RUNTIME_OPTIONS}


def qualified_name(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def model_attribute(obj: object) -> str | None:
    """The model name a caller's embedding object carries, if it carries one."""
    for attr in ("model", "model_name", "model_id", "deployment", "model_path"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    return None
