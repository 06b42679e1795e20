"""Tenants of one collection: `HybridIndex.tenant(name)` views and what only they can do."""

from __future__ import annotations

import copy
from abc import abstractmethod
from typing import Self, TypeVar

from . import collection
from .collection import Collection
from .inference import Models
from .settings import Settings, check_tenant
from .steps import Steps

T = TypeVar("T")


class Tenancy:
    """The tenant methods of `HybridIndex` (see docs/reliability.md, "Tenants")."""

    _col: Collection
    collection: str
    settings: Settings

    @property
    @abstractmethod
    def models(self) -> Models: ...

    @abstractmethod
    def _drive(self, steps: Steps[T]) -> T: ...

    @abstractmethod
    async def _adrive(self, steps: Steps[T]) -> T: ...

    def tenant(self, name: str) -> Self:
        """A view confined to one tenant (needs ``tenant_key=``): its records carry
        ``metadata[tenant_key] = name``, its ids are its own, and every request gets the
        tenant's condition outside whatever the caller passes."""
        view = copy.copy(self)
        view._col = Collection.of(self.collection, self.models, self.settings, check_tenant(name, self.settings))
        return view

    @property
    def tenant_name(self) -> str | None:
        """The view's tenant (None: all)."""
        return self._col.tenant

    def drop_tenant(self) -> None:
        """Delete every record of this view's tenant."""
        self._drive(collection.drop_tenant(self._col))

    async def adrop_tenant(self) -> None:
        await self._adrive(collection.drop_tenant(self._col))

    def promote(self, *, finish: bool = False) -> None:
        """tenant_shards="tiered": move this view's tenant to a shard of its own (the server
        copies in the background); ``finish=True`` once that shard is active."""
        self._drive(collection.promote(self._col, finish))

    async def apromote(self, *, finish: bool = False) -> None:
        await self._adrive(collection.promote(self._col, finish))
