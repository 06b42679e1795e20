"""A caller's own dense model (a LangChain `Embeddings`, or anything with the same two
methods) used by the core in place of a fastembed dense model."""

from __future__ import annotations

import threading
from typing import Any, Sequence


def is_external(value: Any) -> bool:
    return callable(getattr(value, "embed_documents", None)) and callable(
        getattr(value, "embed_query", None)
    )


class ExternalDense:
    kind = "dense"
    modifier = None
    spec = None

    def __init__(self, model: Any) -> None:
        self.model = model
        self.name = type(model).__name__
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        with self._lock:
            if self._dim is None:
                self._dim = len(self.embed_documents(["dimension probe"])[0])
        return self._dim

    def embed_documents(self, texts: Sequence[str], padding_aware: bool | None = None) -> list[Any]:
        return [list(v) for v in self.model.embed_documents(list(texts))] if texts else []

    def embed_query(self, text: str) -> list[float]:
        return list(self.model.embed_query(text))

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def tokenizer(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "dense", "external": True}
