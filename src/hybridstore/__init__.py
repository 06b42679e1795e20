"""hybridstore: dense, sparse and late-interaction retrieval on one Qdrant collection."""

from .errors import (
    CollectionNotFoundError,
    ConfigurationError,
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
from .index import HybridIndex
from .inference import ModelSpec, Models
from .records import Hit, Record

__version__ = "0.1.0"

__all__ = [
    "CollectionNotFoundError",
    "ConfigurationError",
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
    "StorageLockedError",
    "TruncationWarning",
    "WriteError",
]
