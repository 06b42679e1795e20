"""Tenants of one collection: `HybridIndex.tenant(name)` views, and what only they can do (the
steps of `drop_tenant` and `promote`)."""

from __future__ import annotations

import copy
from abc import abstractmethod
from typing import Self, TypeVar

from . import collection
from .collection import Collection
from .engine.requests import CreateShardKey, Delete, MoveTenant, Route, ShardKeys, ask
from .errors import InvalidInputError
from .inference import Models
from .settings import SHARED_SHARD, Settings, check_tenant
from .steps import Ensure, Steps

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
    def tenant_key(self) -> str | None:
        """The metadata key that names a record's tenant: the settings', or the one recorded with
        the collection once it has been read (None: no tenants)."""
        return self._col.state.tenant_key

    @property
    def tenant_name(self) -> str | None:
        """The view's tenant (None: all)."""
        return self._col.tenant

    def drop_tenant(self) -> None:
        """Delete every record of this view's tenant."""
        self._drive(dropping(self._col))

    async def adrop_tenant(self) -> None:
        await self._adrive(dropping(self._col))

    def promote(self, *, finish: bool = False) -> None:
        """tenant_shards="tiered": move this view's tenant to a shard of its own (the server
        copies in the background); ``finish=True`` once that shard is active."""
        self._drive(promoting(self._col, finish))

    async def apromote(self, *, finish: bool = False) -> None:
        await self._adrive(promoting(self._col, finish))


def dropping(col: Collection) -> Steps[None]:
    """Delete every record of the view's tenant."""
    if col.tenant is None:
        raise InvalidInputError("drop_tenant() is for a tenant's view: index.tenant('name').drop_tenant()")
    there = yield from collection.exists(col)
    if there:
        yield Delete(col.tenant_filter())
        if col.settings.tenant_shards == "tiered":  # copies left in the shared shard by a promote
            yield Delete(col.tenant_filter(), shard=Route(SHARED_SHARD))


def promoting(col: Collection, finish: bool) -> Steps[None]:
    """tenant_shards="tiered": move the view's tenant from the shared shard to its own shard
    key. The server copies its points in the background and routes its requests to the new
    shard once it is active; then `finish` deletes the copies left in the shared shard."""
    if col.settings.tenant_shards != "tiered" or col.tenant is None:
        raise InvalidInputError("promote() is for a tenant's view of a collection made with "
                                "tenant_shards='tiered': index.tenant('name').promote()")
    yield Ensure(False)
    keys = yield from ask(ShardKeys())
    promoted = col.tenant in keys
    if finish and not promoted:
        raise InvalidInputError(f"tenant {col.tenant!r} has no shard of its own: promote() it first, "
                                "and promote(finish=True) once Qdrant reports that shard active")
    if finish:
        yield Delete(col.tenant_filter(), shard=Route(SHARED_SHARD))
    elif not promoted:
        yield CreateShardKey(col.tenant, partial=True)
        yield MoveTenant(col.tenant_filter(), SHARED_SHARD, col.tenant)
