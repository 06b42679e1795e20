"""Loading fastembed models, once per process: one instance per (kind, name, folder, options)."""

from __future__ import annotations

import os
import threading
from typing import Any

import onnxruntime as ort
from fastembed import LateInteractionTextEmbedding, SparseTextEmbedding, TextEmbedding

from ..errors import ModelNotFoundError, ProviderNotAvailableError
from .specs import ModelSpec

CLASSES = {
    "dense": TextEmbedding,
    "sparse": SparseTextEmbedding,
    "late_interaction": LateInteractionTextEmbedding,
}

_cache: dict[tuple, Any] = {}
_lock = threading.Lock()


def load(spec: ModelSpec) -> Any:
    """The shared fastembed instance for `spec`, loading it on first use."""
    key = spec.cache_key()
    with _lock:
        model = _cache.get(key)
        if model is None:
            model = _cache[key] = _construct(spec)
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


def _construct(spec: ModelSpec) -> Any:
    options = spec.load_options()
    _check_providers(spec, options)
    cls = CLASSES[spec.kind]
    if spec.path is not None:
        model = cls(spec.name, specific_model_path=spec.path, **options)
    else:
        model = _from_hub(cls, spec, options)
    _check_session(spec, model, options)
    return model


def _from_hub(cls: type, spec: ModelSpec, options: dict[str, Any]) -> Any:
    """Cache first, then the hub unless offline; fastembed's own error is chained."""
    try:
        return cls(spec.name, local_files_only=True, **options)
    except ValueError as cached_error:
        if _offline():
            raise ModelNotFoundError(
                f"{spec.kind} model {spec.name!r} is not in fastembed's cache and HF_HUB_OFFLINE "
                "is set; use a model from a pack (pack= or $HYBRIDSTORE_MODELS) or give "
                "ModelSpec(path=...) a local folder"
            ) from cached_error
    try:
        return cls(spec.name, **options)
    except ValueError as e:
        raise ModelNotFoundError(
            f"{spec.kind} model {spec.name!r} could not be downloaded: {e}. Without network, "
            "use a model pack (pack= or $HYBRIDSTORE_MODELS) or ModelSpec(path=...)"
        ) from e


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def _requested_providers(options: dict[str, Any]) -> list[str]:
    names = [p if isinstance(p, str) else p[0] for p in options.get("providers") or []]
    if options.get("cuda") is True or str(options.get("cuda")).lower().endswith("cuda"):
        names.append("CUDAExecutionProvider")
    return names


def _check_providers(spec: ModelSpec, options: dict[str, Any]) -> None:
    available = ort.get_available_providers()
    missing = [p for p in _requested_providers(options) if p not in available]
    if missing:
        raise ProviderNotAvailableError(
            f"{spec.kind} model {spec.name!r} asks for {', '.join(missing)}, but this "
            f"onnxruntime offers only {', '.join(available)}. Install the matching build "
            "(e.g. `pip install fastembed-gpu` for CUDA) or drop providers=/cuda="
        )


def _check_session(spec: ModelSpec, model: Any, options: dict[str, Any]) -> None:
    """onnxruntime may fall back to CPU with only a warning; refuse that."""
    session = getattr(getattr(model, "model", None), "model", None)
    if session is None or not hasattr(session, "get_providers"):
        return
    active = session.get_providers()
    missing = [p for p in _requested_providers(options) if p not in active]
    if missing:
        raise ProviderNotAvailableError(
            f"{spec.kind} model {spec.name!r}: onnxruntime could not start {', '.join(missing)} "
            f"(active: {', '.join(active)}); check the driver and CUDA/cuDNN versions"
        )
