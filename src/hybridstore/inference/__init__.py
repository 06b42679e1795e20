"""Inference: model specs, packs, a process-wide model cache and embedding."""

from .embedder import Embedder
from .models import DEFAULT, Models, check_models
from .pack import Pack, load_pack
from .specs import KINDS, ModelSpec

__all__ = ["DEFAULT", "KINDS", "Embedder", "ModelSpec", "Models", "Pack", "check_models", "load_pack"]
