"""The index an adapter's store works on: given, shared with a store of this process that holds
the folder, or new."""

from __future__ import annotations

import dataclasses
from typing import Any

from .engine import held_engine
from .errors import ConfigurationError
from .index import HybridIndex
from .inference import Models
from .settings import Settings


def store_index(index: HybridIndex | None, collection_name: str | None, default_name: str,
                models: Models | None, settings: Settings | None, tenant: str | None,
                options: dict[str, Any], **also: object) -> HybridIndex:
    """An adapter store's index: `index` when given (shared, e.g. with the other framework's
    store in this process), else a new one named `collection_name` (None: `default_name`).
    An index brings its own models, storage and name, so those given beside it (`also`: the
    adapter's own, e.g. embedding=) are refused rather than ignored."""
    if index is None:
        index = HybridIndex(collection_name or default_name, models, settings=sharing(Settings.of(settings, **options)))
    else:
        named = {"models": models, "settings": settings, **also}
        given = [name for name, value in named.items() if value is not None]
        if given or options:
            raise ConfigurationError(
                f"index= brings its own models and storage; {', '.join(given + sorted(options))} "
                "given beside it would be ignored: leave them out, or open a new index without index=")
        if collection_name not in (None, index.collection):
            raise ConfigurationError(
                f"collection {collection_name!r} given with index= of collection {index.collection!r}: "
                "leave the name out, or open that collection without index=")
    return index.tenant(tenant) if tenant is not None else index


def sharing(settings: Settings) -> Settings:
    """`settings` on the engine of this process that holds their folder, where one does: a
    store built while an earlier one holds the folder (a notebook cell run again, ``from_texts``,
    LlamaIndex's ``from_documents``, two tenants' stores) shares its engine, as with ``index=``."""
    engine = held_engine(settings)
    return settings if engine is None else dataclasses.replace(settings, path=None, engine=engine)
