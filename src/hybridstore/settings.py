"""`Settings`: where an index is stored and how it is indexed, in one frozen, checked object.

`HybridIndex`, both adapters and the command line build one (from keywords, or take yours), and
the engine is opened from it; an unknown or bad option is refused here, naming the valid ones.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .engine import Engine, embedded_kind, open_engine
from .errors import ConfigurationError
from .qdrant.storage import Storage

TENANT_SHARDS = ("dedicated", "tiered")
SHARED_SHARD = "hybridstore-shared"  # the shard key of tenants without their own
INDEX_KINDS = ("keyword", "integer", "float", "bool", "datetime", "text", "uuid", "geo")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")


class _Checked(type):
    """`Settings(...)` itself refuses an unknown option, naming the valid ones (a dataclass
    would raise a bare TypeError naming nothing)."""

    def __call__(cls, *args: Any, **options: Any) -> Any:
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigurationError(f"unknown option(s) {unknown}; hybridstore takes: {', '.join(sorted(known))}")
        return super().__call__(*args, **options)


@dataclass(frozen=True)
class Settings(metaclass=_Checked):
    """Storage: ``location=":memory:"`` (default), ``path=DIR`` (embedded, on disk),
    ``url=URL`` (+ ``api_key``, ``timeout``, ``retries``, ``backoff``) for a Qdrant server, or
    your own ``client=QdrantClient`` (+ ``async_client``). Embedded storage runs on Qdrant Edge
    (``engine="edge"``, the default, or ``$HYBRIDSTORE_ENGINE``) or qdrant-client's local mode
    (``engine="local"``); ``engine=`` also takes an ``Engine`` instance. ``busy_wait``
    (Qdrant Edge): seconds a search waits while the engine builds a graph before it raises
    `EngineBusyError` (default 30; None: until the build ends); writes always wait their turn.

    Indexing: ``vector_names`` (kind -> named vector), ``payload_layout`` ("canonical" or
    "llama_index"), ``payload_indexes`` (metadata keys you filter on, e.g. ``{"year":
    "integer"}``; ``doc_id`` is always indexed), ``optimize_threshold`` (points written before
    an automatic HNSW build, and at least as many as the collection had, up to ten thresholds:
    bulk loads build about twice in all; None: only on request), ``upsert_batch`` (points per write),
    ``tenant_key`` (the metadata key that names a record's tenant: see `HybridIndex.tenant`),
    ``tenant_shards`` (a Qdrant server only, 1.16 or later: "dedicated" gives each tenant its
    own shard key at its first write; "tiered" keeps tenants in one shared shard until
    `HybridIndex.promote` moves one to its own; None: one shard, the ``is_tenant`` index).

    Storage of a new collection: ``storage`` (a `Storage`, a preset name such as "large", or a
    dict of its fields; None: what an existing collection has, else the default); on a Qdrant
    server also ``shards`` and ``replicas`` (its shard_number and replication_factor).
    """

    location: str | None = None
    path: str | None = None
    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    client: Any = None
    async_client: Any = None
    engine: Any = None
    timeout: int | None = None
    retries: int = 3
    backoff: float = 0.25
    busy_wait: float | None = 30.0
    vector_names: Mapping[str, str] = field(default_factory=dict)
    payload_layout: str = "canonical"
    payload_indexes: Mapping[str, str] = field(default_factory=dict)
    optimize_threshold: int | None = 20_000
    upsert_batch: int = 256
    tenant_key: str | None = None
    tenant_shards: str | None = None
    storage: Any = None
    shards: int | None = None
    replicas: int | None = None

    def __post_init__(self) -> None:
        given = [n for n, v in {"location": self.location, "path": self.path, "url": self.url,
                                "client": self.client,
                                "engine": self.engine if isinstance(self.engine, Engine) else None}.items()
                 if v is not None]
        if len(given) > 1:
            raise ConfigurationError(f"give one of location=, path=, url=, client=, engine=; got {given}")
        if self.path is not None:
            if not isinstance(self.path, (str, os.PathLike)) or "\0" in os.fspath(self.path):
                raise ConfigurationError(
                    f"path={self.path!r} is not a usable folder path (a str without NUL bytes)")
            object.__setattr__(self, "path", os.fspath(self.path))
        if self.location not in (None, ":memory:"):
            raise ConfigurationError(f"location={self.location!r}: use ':memory:', path=DIR or url=URL")
        for name in ("payload_indexes", "vector_names"):
            if not isinstance(getattr(self, name) or {}, Mapping):
                raise ConfigurationError(f"{name}={getattr(self, name)!r}: give a dict, e.g. "
                                         + ("{'year': 'integer'}" if name == "payload_indexes" else "{'dense': 'text'}"))
        threshold = self.optimize_threshold
        if threshold is not None and (not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1):
            raise ConfigurationError(f"optimize_threshold={threshold!r}: use a positive integer, or None")
        bad = {k: v for k, v in dict(self.payload_indexes or {}).items()
               if v not in INDEX_KINDS or not isinstance(k, str) or not k}
        if bad:
            raise ConfigurationError(
                f"payload_indexes {bad} are not valid; map metadata keys to one of {', '.join(INDEX_KINDS)}")
        object.__setattr__(self, "payload_indexes", dict(self.payload_indexes))
        if self.tenant_key is not None and (not isinstance(self.tenant_key, str) or not self.tenant_key):
            raise ConfigurationError(f"tenant_key={self.tenant_key!r}: name a metadata key, e.g. 'tenant'")
        if self.tenant_shards not in (None, *TENANT_SHARDS):
            raise ConfigurationError(f"tenant_shards={self.tenant_shards!r}: use one of {TENANT_SHARDS} or None")
        if self.tenant_shards and not self.tenant_key:
            raise ConfigurationError("tenant_shards needs tenant_key= (the metadata key that names a tenant)")
        object.__setattr__(self, "vector_names", dict(self.vector_names or {}))
        object.__setattr__(self, "storage", Storage.of(self.storage))
        if self.storage is not None:
            self.storage.check_asked()
        for name in ("shards", "replicas"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigurationError(f"{name}={value!r}: use a positive integer, or None")

    @classmethod
    def of(cls, settings: Settings | None = None, **options: Any) -> Settings:
        """`settings` with `options` on top (keywords of this class; an unknown one is refused)."""
        given = {k: v for k, v in options.items() if v is not None or k in ("optimize_threshold", "busy_wait")}
        return dataclasses.replace(settings, **given) if settings else cls(**given)

    def open_engine(self) -> Engine:
        """The engine, once these settings are known to fit it: a refusal comes before an
        embedded engine makes its folder (nothing is left behind)."""
        known = self._kind_before_open()
        if known is not None:
            self._refuse_on(known)
        engine = open_engine(self)
        try:
            self._refuse_on(engine.describe()["engine"])
        except ConfigurationError:
            if engine is not self.engine:  # ours to close; an Engine you passed stays open
                engine.close()
            raise
        return engine

    def _kind_before_open(self) -> str | None:
        """The kind of engine these settings open, where it is known before opening it (None:
        your Engine or client=, known once asked; neither makes a folder)."""
        if isinstance(self.engine, Engine) or self.client is not None:
            return None
        return "server" if self.url is not None else embedded_kind(self.path, self.engine)

    def _refuse_on(self, kind: str) -> None:
        """Settings that engine `kind` (server, edge, local) cannot honour, refused naming the fix."""
        why = None
        if self.tenant_shards and kind != "server":
            why = (f"tenant_shards={self.tenant_shards!r} needs a Qdrant server (url=...): shard keys "
                   "are a server's; embedded engines keep tenants apart with the is_tenant index alone")
        elif (self.shards or self.replicas) and kind != "server":
            why = (f"shards={self.shards!r} / replicas={self.replicas!r} need a Qdrant server (url=...): "
                   "an embedded collection is one shard in one process")
        elif self.storage is not None and not self.storage.is_default() and kind == "local":
            why = (f"storage={self.storage} needs Qdrant Edge (engine='edge') or a Qdrant server: "
                   "qdrant-client's local mode keeps every vector in Python memory and has no "
                   "quantization, on-disk storage or HNSW graph")
        if why is not None:
            raise ConfigurationError(why)


def check_tenant(tenant: Any, settings: Settings) -> str:
    """A tenant's name: a non-empty string without control characters, under a tenant_key."""
    if settings.tenant_key is None:
        raise ConfigurationError("tenant views need tenant_key= (the metadata key that names a "
                                 "record's tenant), e.g. HybridIndex(..., tenant_key='tenant')")
    if not isinstance(tenant, str) or not tenant or len(tenant) > 256 \
            or any(ord(c) < 32 or ord(c) == 127 for c in tenant):
        raise ConfigurationError(f"tenant {tenant!r} is not allowed: use a non-empty string of at "
                                 "most 256 characters without control characters")
    if settings.tenant_shards and tenant == SHARED_SHARD:
        raise ConfigurationError(f"tenant {tenant!r} is the name of the shared shard; use another name")
    return tenant


def check_collection_name(collection: Any) -> str:
    if not isinstance(collection, str) or not _NAME.match(collection) or ".." in collection:
        raise ConfigurationError(
            f"collection name {collection!r} is not allowed; use letters, digits, '_', '-' and "
            "'.', starting with a letter or digit")
    return collection
