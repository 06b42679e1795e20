"""A caller's own dense model used by the core in place of a fastembed dense model: a
LangChain `Embeddings` (``embed_documents`` / ``embed_query``) or a LlamaIndex
`BaseEmbedding` (``get_text_embedding_batch`` / ``get_query_embedding``)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

from typing_extensions import TypeIs

from .fingerprint import model_attribute, qualified_name


class LangChainStyle(Protocol):
    """A LangChain ``Embeddings``, as far as the core uses one."""

    def embed_documents(self, texts: list[str], /) -> list[list[float]]: ...

    def embed_query(self, text: str, /) -> list[float]: ...


class LlamaIndexStyle(Protocol):
    """A LlamaIndex ``BaseEmbedding``, as far as the core uses one."""

    def get_text_embedding_batch(self, texts: list[str], /) -> list[list[float]]: ...

    def get_query_embedding(self, query: str, /) -> list[float]: ...


External = LangChainStyle | LlamaIndexStyle  # a caller's own dense model


def _langchain_style(value: object) -> TypeIs[LangChainStyle]:
    return callable(getattr(value, "embed_documents", None)) and callable(
        getattr(value, "embed_query", None))


def _llama_index_style(value: object) -> TypeIs[LlamaIndexStyle]:
    return callable(getattr(value, "get_text_embedding_batch", None)) and callable(
        getattr(value, "get_query_embedding", None))


def is_external(value: object) -> TypeIs[External]:
    return _langchain_style(value) or _llama_index_style(value)


class ExternalDense:
    kind = "dense"
    modifier = None
    spec = None

    def __init__(self, model: External) -> None:
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

    def embed_documents(self, texts: Sequence[str], padding_aware: bool | None = None) -> list[list[float]]:
        if not texts:
            return []
        model = self.model
        vectors = model.embed_documents(list(texts)) if _langchain_style(model) \
            else model.get_text_embedding_batch(list(texts))
        return [list(v) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        model = self.model
        vector = model.embed_query(text) if _langchain_style(model) else model.get_query_embedding(text)
        return list(vector)

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def tokenizer(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "dense", "external": True}

    def signature(self) -> dict[str, Any]:
        """What can be known of a caller's model: its class, model name (if it has one), size."""
        return {"source": "external", "kind": "dense", "class": qualified_name(self.model),
                "model": model_attribute(self.model), "dim": self.dim}
