"""Engines: the only code that performs I/O.

Embedded storage (``location=":memory:"`` or ``path=DIR``) uses Qdrant Edge by default
(``engine="edge"``; ``$HYBRIDSTORE_ENGINE`` changes the default) or qdrant-client's local mode
(``engine="local"``). A folder one of them wrote opens with that one unless ``engine=`` says
otherwise (then the engine refuses it, naming the one that wrote it). A server (``url=``) or your own ``client=`` uses qdrant-client. The core
talks to an engine only through `Engine.run` / `arun` and the requests of `engine.requests`.
"""

from __future__ import annotations

import os
from typing import Protocol

from qdrant_client import AsyncQdrantClient, QdrantClient

from ..errors import ConfigurationError
from . import requests
from .base import Engine
from .client import ClientEngine
from .edge import EdgeEngine
from .folder import holding_engine, written_by
from .requests import Found

EMBEDDED = ("edge", "local")
ENV_VAR = "HYBRIDSTORE_ENGINE"

__all__ = ["ClientEngine", "EdgeEngine", "Engine", "Found", "open_engine", "requests"]


class EngineSettings(Protocol):
    """What opens an engine: where the storage is and how to reach it (`hybridstore.Settings`)."""

    @property
    def engine(self) -> Engine | str | None: ...
    @property
    def location(self) -> str | None: ...
    @property
    def path(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def api_key(self) -> str | None: ...
    @property
    def client(self) -> QdrantClient | None: ...
    @property
    def async_client(self) -> AsyncQdrantClient | None: ...
    @property
    def timeout(self) -> int | None: ...
    @property
    def retries(self) -> int: ...
    @property
    def backoff(self) -> float: ...
    @property
    def busy_wait(self) -> float | None: ...


def open_engine(settings: EngineSettings) -> Engine:
    """The engine `settings` name."""
    engine = settings.engine
    if isinstance(engine, Engine):
        return engine
    if settings.url is not None or settings.client is not None:
        if engine not in (None, "client"):
            raise ConfigurationError(f"engine={engine!r} is for embedded storage; url= and client= "
                                     "use qdrant-client")
        return ClientEngine(url=settings.url, api_key=settings.api_key, client=settings.client,
                            async_client=settings.async_client, timeout=settings.timeout,
                            retries=settings.retries, backoff=settings.backoff)
    name = embedded_kind(settings.path, engine)
    if name not in EMBEDDED:
        raise ConfigurationError(f"engine {name!r} is unknown; use one of {', '.join(EMBEDDED)} "
                                 "or an Engine instance")
    if name == "edge":
        return EdgeEngine(path=settings.path, location=None if settings.path else ":memory:",
                          busy_wait=settings.busy_wait)
    return ClientEngine(location=settings.location, path=settings.path)


def embedded_kind(path: str | None, engine: str | None) -> str:
    """The embedded engine named: `engine`, else the one that wrote the folder `path`, else
    $HYBRIDSTORE_ENGINE, else edge."""
    wrote = written_by(path) if path and engine is None else []
    return engine or (wrote[0] if len(wrote) == 1 else None) or os.environ.get(ENV_VAR) or "edge"


def held_engine(settings: EngineSettings) -> Engine | None:
    """The engine of this process that holds the folder of `settings` (``path=``) open, if any:
    one index, store or copy shares it instead of failing on the folder's lock."""
    engine = settings.engine
    if settings.path is None or isinstance(engine, Engine):
        return None
    held = holding_engine(settings.path, embedded_kind(settings.path, engine))
    return held if isinstance(held, Engine) else None  # a folder's lock is held for an engine
