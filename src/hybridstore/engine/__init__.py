"""Engines: the only code that performs I/O."""

from .base import Engine, Found
from .client import ClientEngine

__all__ = ["ClientEngine", "EdgeEngine", "Engine", "Found"]


def __getattr__(name: str):
    if name == "EdgeEngine":  # qdrant-edge-py is optional: imported only when asked for
        from .edge import EdgeEngine

        return EdgeEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
