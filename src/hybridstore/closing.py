"""Open and close like a file, for the index and the adapters' stores."""

from __future__ import annotations

from typing import Any


class ClosesIndex:
    """Open and close like a file: ``close()`` / ``aclose()``, ``with`` and ``async with``
    close the `HybridIndex` (the adapters' stores: the one they hold as ``self.index``)."""

    def close(self) -> None:
        """Close the index and release its storage (an on-disk folder's lock)."""
        self.index.close()  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        """`close`, and a server's async client too."""
        await self.index.aclose()  # type: ignore[attr-defined]

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
