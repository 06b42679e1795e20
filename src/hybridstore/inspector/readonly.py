"""The engine the inspector's index runs on: the index's own, let through for reads only.

The core's first search of an opening checks the collection, and in doing so asks the engine
to (re)create the payload indexes its filters use (`collection.ensure`): idempotent, but a
write (Qdrant Edge logs it). Here that request is answered as an engine without payload
indexes answers it (nothing done), and any other write is refused with an error: nothing the
page does can change the folder."""

from __future__ import annotations

from typing import Any

from ..engine import Engine
from ..engine.requests import (
    Changes,
    Count,
    GetSchema,
    IndexPayload,
    Query,
    QueryBatch,
    Request,
    ScrollPage,
    ShardKeys,
)
from ..errors import HybridStoreError

READS = (GetSchema, Changes, Count, ScrollPage, Query, QueryBatch, ShardKeys)


class WriteRefused(HybridStoreError):
    """A write asked of the inspector's read-only engine."""


class ReadOnly(Engine):
    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.folder, self.groups, self.ledger = inner.folder, inner.groups, inner.ledger

    def run(self, collection: str, request: Request[Any]) -> Any:
        return self.inner.run(collection, request) if self._read(request) else None

    async def arun(self, collection: str, request: Request[Any]) -> Any:
        return await self.inner.arun(collection, request) if self._read(request) else None

    def _read(self, request: Request[Any]) -> bool:
        """True for a read; False for a payload index (skipped); a WriteRefused for the rest."""
        if isinstance(request, READS):
            return True
        if isinstance(request, IndexPayload):
            return False
        raise WriteRefused(f"the inspector is read-only: it refused a {type(request).__name__} request "
                           "(write with hybridstore ingest / delete, or the library, while it is stopped)")

    def changes(self, collection: str) -> int | None:
        return self.inner.changes(collection)

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()
