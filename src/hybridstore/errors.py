"""The one exception hierarchy of hybridstore.

    HybridStoreError
    ├── ConfigurationError (ValueError)     bad settings for Models / HybridIndex
    │   ├── ModelNotFoundError              a model name that cannot be loaded here
    │   └── ProviderNotAvailableError       an onnxruntime provider (e.g. CUDA) that is missing
    ├── InvalidInputError (ValueError)      bad records, queries or options, refused before any write
    │   └── FilterError                     a filter that cannot be translated
    ├── CollectionNotFoundError (LookupError)
    ├── SchemaMismatchError                 an existing collection disagrees with the models
    │                                       (its vectors, or the models that wrote them)
    ├── MissingVectorsError                 stored points lack a vector the search would use
    ├── CollectionChangedError              a write landed while a search was explained
    └── EngineError                         a storage backend failed; the backend error is chained
        ├── StorageLockedError              an on-disk index already opened elsewhere
        ├── EngineBusyError                 a search waited its limit while the engine built
        │                                   a graph (names the build and how long it has run)
        └── WriteError                      an add failed part-way; says which ids were written

TruncationWarning (UserWarning): a text longer than a model's window was embedded in part.
EmptyQueryWarning (UserWarning): a query gave the sparse model no term (only stop-words).
BoostKeyWarning (UserWarning): no hit of a boosted search holds a key the boost reads (a typo?).
ModelSignatureWarning (UserWarning): what wrote a collection's vectors was recorded now, or
cannot be verified (a caller's embeddings without a model name).
"""

from __future__ import annotations


class HybridStoreError(Exception):
    """Base of every error hybridstore raises on purpose."""


class ConfigurationError(HybridStoreError, ValueError):
    pass


class ModelNotFoundError(ConfigurationError):
    pass


class ProviderNotAvailableError(ConfigurationError):
    pass


class InvalidInputError(HybridStoreError, ValueError):
    pass


class DocumentError(InvalidInputError):
    """A file that cannot give text as its type says: encrypted, damaged, no text layer."""


class FilterError(InvalidInputError):
    pass


class CollectionNotFoundError(HybridStoreError, LookupError):
    pass


class SchemaMismatchError(HybridStoreError):
    pass


class MissingVectorsError(HybridStoreError):
    """Some stored points lack a named vector that a search would use, so it would leave
    them out; ``vector`` names it and ``lacking`` counts those points."""

    def __init__(self, message: str, vector: str, lacking: int) -> None:
        super().__init__(message)
        self.vector = vector
        self.lacking = lacking


class CollectionChangedError(HybridStoreError):
    """The collection changed between a search and its explanation's own queries (another
    writer): the explanation would not match the hits. Searching again explains the new state."""


class EngineError(HybridStoreError):
    pass


class StorageLockedError(EngineError):
    pass


class EngineBusyError(EngineError):
    pass


class WriteError(EngineError):
    """An add that failed part-way: ``written`` ids are stored, ``not_written`` are not (ids
    are deterministic, so adding the same records again completes it)."""

    def __init__(self, message: str, written: list[str], not_written: list[str]) -> None:
        super().__init__(message)
        self.written = written
        self.not_written = not_written


class TruncationWarning(UserWarning):
    """Texts longer than a model's window: only their beginning was embedded. ``model``,
    ``kind``, ``count`` (texts cut), ``total`` (texts embedded) and ``window`` (tokens) let a
    caller sum them up (the command line prints one line per model)."""

    def __init__(self, message: str, *, model: str = "", kind: str = "", count: int = 0,
                 total: int = 0, window: int | str | None = None) -> None:
        super().__init__(message)
        self.model, self.kind, self.count, self.total, self.window = model, kind, count, total, window


class EmptyQueryWarning(UserWarning):
    """A query's sparse vector is empty (only stop-words or punctuation): keyword search
    matches nothing for it."""


class BoostKeyWarning(UserWarning):
    """No hit of a boosted search holds a metadata key its recency or factor reads: each got the
    factor of a record without it, so the key ranked nothing (a misspelt key, most likely)."""


class ModelSignatureWarning(UserWarning):
    """The models behind a collection's vectors were recorded now, or cannot be verified."""


__all__ = [
    "BoostKeyWarning",
    "CollectionNotFoundError",
    "ConfigurationError",
    "DocumentError",
    "EmptyQueryWarning",
    "EngineError",
    "FilterError",
    "HybridStoreError",
    "InvalidInputError",
    "MissingVectorsError",
    "ModelNotFoundError",
    "ModelSignatureWarning",
    "ProviderNotAvailableError",
    "SchemaMismatchError",
    "StorageLockedError",
    "TruncationWarning",
    "WriteError",
]
