"""Tenants of one collection: `HybridIndex.tenant(name)` views and what only they can do."""

from __future__ import annotations

import copy
from typing import Any

from . import collection
from .collection import Collection
from .settings import check_tenant


class Tenancy:
    """The tenant methods of `HybridIndex` (see docs/reliability.md, "Tenants")."""

    _col: Collection
    _drive: Any
    _adrive: Any

    def tenant(self, name: str) -> Any:
        """A view confined to one tenant (needs ``tenant_key=``): its records carry
        ``metadata[tenant_key] = name``, its ids are its own, and every request gets the
        tenant's condition outside whatever the caller passes."""
        view = copy.copy(self)
        view._col = Collection(self.collection, self.models, self.settings, check_tenant(name, self.settings))
        return view

    tenant_name = property(lambda self: self._col.tenant, doc="the view's tenant (None: all)")

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

