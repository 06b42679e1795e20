"""Framework-agnostic records and hits: what adapters translate to and from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .explain import Explanation


@dataclass
class Record:
    """One piece of text to index: the caller's id, the text, metadata exactly as given.

    `doc_id` names the source document (for delete-by-document); `extras` holds
    framework-only data (LlamaIndex relationships) that must round-trip untouched. `image`: a
    file path, bytes, a PIL image or a PDF page (`documents.PdfPage`), embedded by the index's
    image model; the text may then be empty. Read back, it is the image's source: its path, ``sha256:<digest>`` of its bytes, or a
    PDF page's ``<path>#page=<n>&dpi=<dpi>`` (`documents.PdfPage`).
    """

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    doc_id: str | None = None
    extras: dict[str, Any] | None = None
    image: Any = None


@dataclass(frozen=True)
class Hit:
    """A search result: the engine's `score` and a 0..1 `relevance` derived from it by the
    query's last stage (see `hybridstore.qdrant.query.relevance`)."""

    record: Record
    score: float
    relevance: float = 0.0
    explanation: Explanation | None = None  # search(explain=True): how it ranked (`hybridstore.explain`)
