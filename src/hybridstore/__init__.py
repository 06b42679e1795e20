"""hybridstore: dense, sparse and late-interaction retrieval on one Qdrant collection.

`HybridIndex`, `Models` and `ModelSpec` load on first use (PEP 562), so that importing the
package, and the command line's ``--help``, stay fast: they pull in qdrant-client, numpy
and fastembed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    BoostKeyWarning,
    CollectionChangedError,
    CollectionNotFoundError,
    ConfigurationError,
    EmptyQueryWarning,
    EngineBusyError,
    EngineError,
    FilterError,
    HybridStoreError,
    InvalidInputError,
    MissingVectorsError,
    ModelNotFoundError,
    ModelSignatureWarning,
    ProviderNotAvailableError,
    SchemaMismatchError,
    StorageLockedError,
    TruncationWarning,
    WriteError,
)
from .records import Hit, Record

if TYPE_CHECKING:
    from .index import HybridIndex
    from .inference import Models, ModelSpec
    from .qdrant.storage import Storage
    from .settings import Settings

__version__ = "0.1.0"

_LAZY = {"HybridIndex": ".index", "Models": ".inference", "ModelSpec": ".inference",
         "Settings": ".settings", "Storage": ".qdrant.storage"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hybridstore' has no attribute {name!r}")


__all__ = [
    "BoostKeyWarning",
    "CollectionChangedError",
    "CollectionNotFoundError",
    "ConfigurationError",
    "EmptyQueryWarning",
    "EngineBusyError",
    "EngineError",
    "FilterError",
    "Hit",
    "HybridIndex",
    "HybridStoreError",
    "InvalidInputError",
    "MissingVectorsError",
    "ModelNotFoundError",
    "ModelSignatureWarning",
    "ModelSpec",
    "Models",
    "ProviderNotAvailableError",
    "Record",
    "SchemaMismatchError",
    "Settings",
    "Storage",
    "StorageLockedError",
    "TruncationWarning",
    "WriteError",
]
