"""Open and close like a file, for the index and the adapters' stores."""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol, Self


class Closes:
    """Open and close like a file: ``with`` and ``async with`` call ``close()`` / ``aclose()``."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    async def aclose(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Closable(Protocol):
    def close(self) -> None: ...

    async def aclose(self) -> None: ...


class HoldsIndex(Protocol):
    @property
    def index(self) -> Closable: ...


class ClosesIndex(Closes):
    """The adapters' stores: ``close()`` / ``aclose()`` (and ``with``) close the `HybridIndex`
    they hold as ``self.index``."""

    def close(self: HoldsIndex) -> None:
        """Close the index and release its storage (an on-disk folder's lock)."""
        self.index.close()

    async def aclose(self: HoldsIndex) -> None:
        """`close`, and a server's async client too."""
        await self.index.aclose()
