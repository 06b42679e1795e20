"""Loading fastembed models, once per process: one instance per (kind, name, folder, options)."""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import onnxruntime as ort
from fastembed import (
    ImageEmbedding,
    LateInteractionMultimodalEmbedding,
    LateInteractionTextEmbedding,
    SparseTextEmbedding,
    TextEmbedding,
)
from loguru import logger  # fastembed's logger

from ..errors import ModelNotFoundError, ProviderNotAvailableError
from .quantize import quantized
from .specs import CacheKey, ModelSpec

ModelClass = (type[TextEmbedding] | type[SparseTextEmbedding] | type[LateInteractionTextEmbedding]
              | type[ImageEmbedding] | type[LateInteractionMultimodalEmbedding])

CLASSES: dict[str, ModelClass] = {
    "dense": TextEmbedding,
    "sparse": SparseTextEmbedding,
    "late_interaction": LateInteractionTextEmbedding,
    "image": ImageEmbedding,
    "late_interaction_multimodal": LateInteractionMultimodalEmbedding,
}

_cache: dict[CacheKey, Any] = {}
_lock = threading.RLock()  # an int8 model loads its source inside


def load(spec: ModelSpec, hub: bool = True) -> Any:
    """The shared fastembed instance for `spec`, loading it on first use. ``hub=False`` (a
    model pack is in use): from the spec's folder or fastembed's cache only, never a download."""
    key = spec.cache_key()
    with _lock:
        model = _cache.get(key)
        if model is None:
            model = _cache[key] = _construct(spec, hub)
        return model


def loaded_count() -> int:
    return len(_cache)


def supported_names(kind: str) -> list[str]:
    return [d.model for d in CLASSES[kind]._list_supported_models()]


def hub_requires_idf(name: str) -> bool:
    for d in SparseTextEmbedding._list_supported_models():
        if d.model.lower() == name.lower():
            return bool(d.requires_idf)
    return False


def _construct(spec: ModelSpec, hub: bool) -> Any:
    options = spec.load_options()
    _check_providers(spec, options)
    cls = CLASSES[spec.kind]
    if spec.options.get("quantize"):
        model = cls(spec.name, specific_model_path=str(_int8_folder(spec, cls, hub)), **options)
    elif spec.path is not None:
        model = cls(spec.name, specific_model_path=spec.path, **options)
    else:
        model = _from_hub(cls, spec, options, hub)
    _check_session(spec, model, options)
    return model


def _int8_folder(spec: ModelSpec, cls: ModelClass, hub: bool) -> Path:
    """The cached int8 copy of the spec's model folder (a hub model: of fastembed's cache)."""
    known = next((d for d in cls._list_supported_models() if d.model.lower() == spec.name.lower()), None)
    if spec.path is not None and known is not None:
        return quantized(Path(spec.path), known.model_file, spec.name)
    source = ModelSpec(spec.name, spec.kind, spec.path, {k: v for k, v in spec.options.items() if k != "quantize"})
    inner = load(source, hub).model  # where fastembed keeps it, and its graph's file name
    return quantized(Path(inner._model_dir), inner.model_description.model_file, spec.name)


def _from_hub(cls: ModelClass, spec: ModelSpec, options: dict[str, Any], hub: bool) -> Any:
    """Cache first, then the hub if it may and can be reached (checked in well under 2 s, not
    after fastembed's retries); fastembed's own error is chained."""
    try:
        with _quiet("fastembed"):  # it logs an ERROR for every cache miss: ours says it better
            return cls(spec.name, local_files_only=True, **options)
    except ValueError as cached_error:
        why = [w for w, applies in (
            ("HF_HUB_OFFLINE is set", _offline()),
            ("a model pack is in use (models come from it or fastembed's cache, never a download)",
             not hub)) if applies]
        if not why and not _hub_reachable():
            why = [f"the model hub ({_hub_host()}) cannot be reached"]
        if why:
            raise ModelNotFoundError(
                f"{spec.kind} model {spec.name!r} is not in fastembed's cache and "
                f"{' and '.join(why)}; use a model of a pack, or give ModelSpec(path=...) a local "
                "folder.") from cached_error
    try:
        return cls(spec.name, **options)
    except ValueError as e:
        raise ModelNotFoundError(
            f"{spec.kind} model {spec.name!r} could not be downloaded: {e}. Without network, "
            "use a model pack (pack= or $HYBRIDSTORE_MODELS) or ModelSpec(path=...)"
        ) from e


@contextlib.contextmanager
def _quiet(package: str) -> Iterator[None]:
    logger.disable(package)
    try:
        yield
    finally:
        logger.enable(package)


def _hub_host() -> str:
    return urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"


@functools.lru_cache(maxsize=1)
def _hub_reachable() -> bool:
    """Whether the hub answers a TCP connect (DNS included) within 1.5 s; asked once."""
    try:
        socket.create_connection((_hub_host(), 443), timeout=1.5).close()
    except OSError:
        return False
    return True


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def _requested_providers(options: dict[str, Any]) -> list[str]:
    names = [p if isinstance(p, str) else p[0] for p in options.get("providers") or []]
    if options.get("cuda") is True or str(options.get("cuda")).lower().endswith("cuda"):
        names.append("CUDAExecutionProvider")
    return names


def _check_providers(spec: ModelSpec, options: dict[str, Any]) -> None:
    _refuse_missing(spec, options, ort.get_available_providers(), "asks for {}, but this onnxruntime "
                    "offers only {}. Install the matching build (e.g. `pip install fastembed-gpu` "
                    "for CUDA) or drop providers=/cuda=")


def _check_session(spec: ModelSpec, model: object, options: dict[str, Any]) -> None:
    """onnxruntime may fall back to CPU with only a warning; refuse that."""
    session = getattr(getattr(model, "model", None), "model", None)
    if session is not None and hasattr(session, "get_providers"):
        _refuse_missing(spec, options, session.get_providers(), "onnxruntime could not start {} "
                        "(active: {}); check the driver and CUDA/cuDNN versions")


def _refuse_missing(spec: ModelSpec, options: dict[str, Any], present: list[str], says: str) -> None:
    missing = [p for p in _requested_providers(options) if p not in present]
    if missing:
        raise ProviderNotAvailableError(
            f"{spec.kind} model {spec.name!r}: " + says.format(", ".join(missing), ", ".join(present)))
