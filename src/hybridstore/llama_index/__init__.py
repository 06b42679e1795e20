"""LlamaIndex adapters: `HybridVectorStore`, `HybridEmbedding` and `HybridImageEmbedding`."""

try:
    import llama_index.core  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hybridstore.llama_index needs llama-index-core: pip install 'hybridstore[llama-index]'"
    ) from e

from .embedding import HybridEmbedding
from .images import HybridImageEmbedding
from .tools import search_tool
from .vectorstore import HybridVectorStore

__all__ = ["HybridEmbedding", "HybridImageEmbedding", "HybridVectorStore", "search_tool"]
