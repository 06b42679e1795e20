"""Engine over qdrant-client: a remote server (sync + async clients) or its local mode.

qdrant-client's local mode is pure Python and not thread-safe, so every local call holds
one lock (`arun` runs it in a worker thread). Against a server, a request that failed on the
way (connection refused or reset, timeout, 429/500/502/503/504) is sent again with bounded
exponential backoff; every request hybridstore sends is idempotent (deterministic point ids,
deletes by filter) except creating a collection, which is not retried. Other answers (4xx)
fail at once. Requests are compiled in `client_compile`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import threading
import time
from typing import Any

import httpx
from qdrant_client import AsyncQdrantClient, QdrantClient
from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from ..errors import ConfigurationError, EngineError, HybridStoreError
from .base import Engine
from .changes import Ledger
from .client_boost import boosted, check_version
from .client_compile import COMPILE, SERVER_VERSION, Op, exists, info
from .folder import FolderLock, check_layout, locked_error, written_by
from .requests import Changes, ChangeVectors, GetSchema, IndexPayload, Optimize, Request

_BACKEND_ERRORS = (UnexpectedResponse, ResponseHandlingException, ResourceExhaustedResponse)
# local mode is the engine itself: its refusals (a collection that exists, a vector's size, a
# closed client) are these, and are engine errors as Qdrant Edge's are; AttributeError: its
# formula reading a number stored where a datetime is expected (`boosting` names the records)
_LOCAL_ERRORS = (ValueError, RuntimeError, KeyError, AttributeError)
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
NOT_RETRIED = frozenset({"create_collection"})
MAX_WAIT = 5.0  # seconds, the longest pause between two tries


class ClientEngine(Engine):
    def __init__(
        self,
        *,
        location: str | None = None,
        path: str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        client: QdrantClient | None = None,
        async_client: AsyncQdrantClient | None = None,
        timeout: int | None = None,
        retries: int = 3,
        backoff: float = 0.25,
    ) -> None:
        if retries < 0 or backoff < 0:
            raise ConfigurationError("retries and backoff must be >= 0")
        self.retries, self.backoff = retries, backoff
        self._owns = client is None
        self._async = async_client
        self.path = path
        self._client: QdrantClient | None = None
        self._late: tuple[str, FolderLock] | None = None  # a folder whose client opens at the first call
        self._version: str | None = None  # a server's, read at its first boost (formula queries need 1.14)
        if client is not None:
            self._client = client
        elif url is not None:
            self._client = QdrantClient(url=url, api_key=api_key, timeout=timeout)
            self._async = AsyncQdrantClient(url=url, api_key=api_key, timeout=timeout)
        elif path is not None:
            check_layout(path, "local")
            self.folder = folder = FolderLock(path, "local", self)
            if folder.held:  # else at the first call (see engine.folder)
                self._client = _open_local(path)
            else:
                self._late = (path, folder)
        else:
            self._client = QdrantClient(location=location or ":memory:")
        self.local = client is None and url is None or \
            type(getattr(client, "_client", None)).__name__ == "QdrantLocal"
        self._lock: contextlib.AbstractContextManager[object] = \
            threading.RLock() if self.local else contextlib.nullcontext()
        if client is None and url is None:  # local mode of its own: every writer comes through here
            self.ledger = Ledger(lambda c: self.run(c, GetSchema()))

    def run(self, collection: str, request: Request[Any]) -> Any:
        if self.ledger is None:
            return self._run(collection, request)
        with self._lock:
            return self.ledger.run(collection, request, self._run)

    def _run(self, collection: str, request: Request[Any]) -> Any:
        if type(request) is Changes:
            return self.changes(collection)
        if type(request) is GetSchema:
            return self._send(info(collection)) if self._send(exists(collection)) else None
        if not self.local and boosted(request):
            self._version = self._version or self._send(SERVER_VERSION)
            check_version(self._version)
        return self._last([self._send(op) for op in self._compile(collection, request)])

    async def arun(self, collection: str, request: Request[Any]) -> Any:
        if type(request) is Changes:  # no I/O: no thread
            return self.changes(collection)
        if self._async is None:  # local mode, or a caller's client without an async twin
            return await asyncio.to_thread(self.run, collection, request)
        if type(request) is GetSchema:
            return await self._asend(info(collection)) if await self._asend(exists(collection)) else None
        if boosted(request):  # a server's (local mode went to a thread above)
            self._version = self._version or await self._asend(SERVER_VERSION)
            check_version(self._version)
        return self._last([await self._asend(op) for op in self._compile(collection, request)])

    def describe(self) -> dict[str, Any]:
        if self.path is not None:
            return {"engine": "local", "path": os.path.abspath(self.path),
                    "folder_written_by": written_by(self.path)}
        return {"engine": "local", "location": ":memory:"} if self.local else {"engine": "server"}

    def close(self) -> None:
        if self._owns:
            with self._lock:
                if self._client is not None:
                    self._client.close()
                if self.folder is not None:
                    self.folder.release()

    async def aclose(self) -> None:
        """close(), and the async client of a server too (it needs the event loop)."""
        if self._owns and self._async is not None:
            await self._async.close()
        self.close()

    def __repr__(self) -> str:
        return f"ClientEngine(local={self.local})"

    def _compile(self, collection: str, request: Request[Any]) -> list[Op]:
        """The calls for a request; none where the engine has nothing to do: the server
        indexes by itself, and local mode has no payload indexes (it only warns), no storage
        settings to give a vector added later (`Settings` refuses any but the defaults) and no
        approximate search to tune."""
        if type(request) is Optimize or (type(request) is IndexPayload and self.local):
            return []
        compiled = COMPILE[type(request)](collection, request)
        ops = compiled if isinstance(compiled, list) else [compiled]
        if self.local:  # exact search: its search_params mean nothing there (it warns per query)
            ops = [(name, {k: v for k, v in kwargs.items() if k != "search_params"}, parse)
                   for name, kwargs, parse in ops]
        return ops[:1] if type(request) is ChangeVectors and self.local else ops

    @staticmethod
    def _last(answers: list[Any]) -> Any:
        return answers[-1] if answers else None

    # -- the only place requests are sent ---------------------------------------------------
    def _connect(self) -> QdrantClient:
        """The client; local mode on a folder opens once this engine holds the folder's lock."""
        if self._client is None:
            if self._late is None:
                raise EngineError("this ClientEngine has no client")  # never: one is made or pending
            path, folder = self._late
            folder.require()  # holds it now, or raises naming the object that does
            self._client, self._late = _open_local(path), None
        return self._client

    def _send(self, op: Op) -> Any:
        name, kwargs, parse = op
        for attempt in range(1, self.retries + 2):
            try:
                with self._lock:
                    return parse(getattr(self._connect(), name)(**kwargs))
            except _BACKEND_ERRORS as e:
                time.sleep(self._retry_delay(name, e, attempt))
            except _LOCAL_ERRORS as e:
                if not self.local or isinstance(e, HybridStoreError):
                    raise
                raise EngineError(f"qdrant {name} failed: {e}") from e

    async def _asend(self, op: Op) -> Any:
        name, kwargs, parse = op
        for attempt in range(1, self.retries + 2):
            try:
                return parse(await getattr(self._async, name)(**kwargs))
            except _BACKEND_ERRORS as e:
                await asyncio.sleep(self._retry_delay(name, e, attempt))

    def _retry_delay(self, name: str, error: Exception, attempt: int) -> float:
        """Seconds to wait before sending again; raises when this failure is final."""
        transient = isinstance(error, ResourceExhaustedResponse) or (
            isinstance(error, ResponseHandlingException)  # a failed connection, not a bad answer
            and isinstance(error.source, httpx.TransportError)) or (
            isinstance(error, UnexpectedResponse) and error.status_code in TRANSIENT_STATUS)
        if self.local or not transient or name in NOT_RETRIED or attempt > self.retries:
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            raise EngineError(f"qdrant {name} failed{tries}: {_describe(error)}") from error
        wait: float = self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)  # int ** int: Any
        asked: float = getattr(error, "retry_after_s", 0)  # a 429's Retry-After
        return min(max(wait, asked), MAX_WAIT)


def _open_local(path: str) -> QdrantClient:
    try:
        return QdrantClient(path=path)
    except RuntimeError as e:
        if "already accessed" not in str(e):
            raise
        raise locked_error(path, "another process (a qdrant-client of its own)") from e


def _describe(error: Exception) -> str:
    """The server's answer or the connection failure underneath, in one line."""
    if isinstance(error, UnexpectedResponse):
        return f"HTTP {error.status_code} {error.reason_phrase}: {error.content[:300]!r}"
    cause = getattr(error, "source", None) or error
    return f"{type(cause).__name__}: {cause}".rstrip(": ")
