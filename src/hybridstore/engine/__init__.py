"""Engines: the only code that performs I/O.

Embedded storage (``location=":memory:"`` or ``path=DIR``) uses Qdrant Edge by default
(``engine="edge"``; ``$HYBRIDSTORE_ENGINE`` changes the default) or qdrant-client's local mode
(``engine="local"``). A server (``url=``) or your own ``client=`` uses qdrant-client.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigurationError
from .base import Engine, Found
from .client import ClientEngine
from .edge import EdgeEngine

EMBEDDED = ("edge", "local")
ENV_VAR = "HYBRIDSTORE_ENGINE"

__all__ = ["ClientEngine", "EdgeEngine", "Engine", "Found", "open_engine"]


def open_engine(engine: Engine | str | None = None, *, location: str | None = None,
                path: str | None = None, url: str | None = None, api_key: str | None = None,
                client: Any = None, async_client: Any = None) -> Engine:
    if isinstance(engine, Engine):
        return engine
    if url is not None or client is not None:
        if engine not in (None, "client"):
            raise ConfigurationError(f"engine={engine!r} is for embedded storage; url= and client= "
                                     "use qdrant-client")
        return ClientEngine(url=url, api_key=api_key, client=client, async_client=async_client)
    name = engine or os.environ.get(ENV_VAR) or "edge"
    if name not in EMBEDDED:
        raise ConfigurationError(f"engine {name!r} is unknown; use one of {', '.join(EMBEDDED)} "
                                 "or an Engine instance")
    if name == "edge":
        return EdgeEngine(path=path, location=None if path else ":memory:")
    return ClientEngine(location=location, path=path)
