"""The inspector's server: uvicorn on a loopback socket bound here (so the port, when the OS
picks it, is known before the first request), until Ctrl-C."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from ..errors import InvalidInputError

LOOPBACK = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1"}


def loopback(host: str) -> str:
    """The address to bind for `host`: the loopback only. The page reads the index for anyone
    who can reach it, so any other address is refused."""
    if host not in LOOPBACK:
        raise InvalidInputError(f"--host {host}: the inspector binds 127.0.0.1 only (it serves your "
                                "index to whoever reaches it); reach it from elsewhere through an SSH "
                                "tunnel (ssh -L PORT:127.0.0.1:PORT host)")
    return LOOPBACK[host]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on the loopback (`port` 0: one the OS picks)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((loopback(host), port))
    except OSError as e:
        sock.close()
        raise OSError(f"cannot listen on 127.0.0.1:{port} ({e.strerror}): choose another --port, or 0 "
                      "for any free one") from None
    sock.listen(64)
    return sock


def url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def serve(app: ASGIApp, sock: socket.socket, said: Callable[[str], None] | None = None) -> None:
    """Serve `app` on `sock` until Ctrl-C (uvicorn's own handling: the requests
    under way finish). The URL is said first (printed and flushed: a pipe reads it at once)."""
    (said or _printed)(f"hybridstore inspect: {url(sock)} (read-only; Ctrl-C stops it)")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.run(sockets=[sock])
    if server.should_exit:  # Ctrl-C: uvicorn raises it again after its shutdown, but asyncio.run can
        raise KeyboardInterrupt  # take it as its own and return normally (status 0 instead of 130)


def _printed(line: str) -> None:
    print(line, flush=True)
