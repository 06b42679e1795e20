"""The page's routes (Starlette): the page and its three files, and the JSON endpoints. Only
GET and POST reach them, only with a Host header naming the loopback (no other site can script
the page's API through DNS rebinding), and every answer that is not the page is JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import HybridStoreError, InvalidInputError
from .answers import Inspector
from .asking import CompareAsked, EvalAsked, Refused, SearchAsked, WhyNotAsked, checked
from .facts import Hider

HOSTS = ["127.0.0.1", "localhost"]
FILES = {"": ("index.html", "text/html; charset=utf-8"), "inspect.js": ("inspect.js", "text/javascript"),
         "inspect.css": ("inspect.css", "text/css")}  # the only files served, by fixed name
BODY_MAX = 32 * 1024 * 1024  # an eval's --json-out of a large dataset fits


def app(inspector: Inspector, hosts: list[str] | None = None) -> Starlette:
    asked: list[tuple[str, type[BaseModel], Callable[[Any], dict[str, Any]]]] = [
        ("search", SearchAsked, inspector.search), ("compare", CompareAsked, inspector.compare),
        ("why-not", WhyNotAsked, inspector.why_not), ("eval", EvalAsked, inspector.eval)]
    routes = [Route("/", _file, methods=["GET"]), Route("/{name:str}", _file, methods=["GET"]),
              Route("/api/overview", _answer(lambda _: inspector.overview(), None), methods=["GET"]),
              *(Route(f"/api/{name}", _answer(run, model), methods=["POST"]) for name, model, run in asked)]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error},
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts or HOSTS)])


def _answer(run: Callable[[Any], dict[str, Any]], model: type[BaseModel] | None
            ) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint: the body checked as `model`, `run` in a worker thread (the index's calls
    block), its answer or the error as JSON: 400 for a request to correct, 409 for one the
    index refuses (a missing vector, no collection)."""
    async def endpoint(request: Request) -> Response:
        try:
            body = None if model is None else checked(model, await _body(request))
            return JSONResponse(await run_in_threadpool(run, body))
        except (Refused, InvalidInputError) as e:
            return _error(400, Hider(None).text(str(e)))
        except HybridStoreError as e:
            return _error(409, Hider(None).text(str(e)))
    return endpoint


async def _body(request: Request) -> object:
    raw = await request.body()
    if len(raw) > BODY_MAX:
        raise Refused(f"the request is larger than {BODY_MAX // 2**20} MiB")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise Refused(f"the request is not JSON ({e})") from None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _file(request: Request) -> Response:
    name = request.path_params.get("name", "")
    if name not in FILES:
        return _error(404, f"no such page: /{name} (the inspector serves /, /inspect.js, /inspect.css and /api/...)")
    file, media = FILES[name]
    return Response(resources.files(__package__).joinpath("static", file).read_bytes(), media_type=media)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (a wrong method, an unknown route) as JSON too."""
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, f"{request.method} {request.url.path}: {exc.detail}")
