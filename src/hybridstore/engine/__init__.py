"""Engines: the only code that performs I/O."""

from .base import Engine, Found
from .client import ClientEngine

__all__ = ["ClientEngine", "Engine", "Found"]
