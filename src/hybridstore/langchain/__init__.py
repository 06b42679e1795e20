"""LangChain adapters: `HybridVectorStore`, `HybridEmbeddings`, `HybridRetriever`."""

try:
    import langchain_core  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hybridstore.langchain needs langchain-core: pip install 'hybridstore[langchain]'"
    ) from e

from .embeddings import HybridEmbeddings
from .retriever import HybridRetriever
from .tools import search_tool
from .vectorstore import HybridVectorStore

__all__ = ["HybridEmbeddings", "HybridRetriever", "HybridVectorStore", "search_tool"]
