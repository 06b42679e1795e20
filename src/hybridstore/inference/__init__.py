"""Inference: model specs, packs, a process-wide model cache and embedding."""

from .embedder import Embedder
from .models import DEFAULT, Models
from .pack import Pack, load_pack
from .specs import KINDS, ModelSpec

__all__ = ["DEFAULT", "Embedder", "KINDS", "ModelSpec", "Models", "Pack", "load_pack"]
