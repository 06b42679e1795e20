"""Each request body the fake server receives, checked against qdrant-client's own generated REST
models for that endpoint, strictly: a field the model does not declare is an error, even where the
model itself would ignore it, since a real server refuses an unknown field."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from functools import cache

from pydantic import BaseModel, TypeAdapter, ValidationError
from qdrant_client.http import api


@cache
def endpoints() -> list[tuple[str, re.Pattern, TypeAdapter | None]]:
    """(method, path pattern, body type) of every endpoint in qdrant-client's generated API."""
    found = []
    for info in pkgutil.iter_modules(api.__path__):
        module = importlib.import_module(f"{api.__name__}.{info.name}")
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == module.__name__):
                continue
            for name, fn in vars(cls).items():
                if not name.startswith("_build_for_"):
                    continue
                src = inspect.getsource(fn)
                method = re.search(r'method="(\w+)"', src).group(1)
                url = re.search(r'url="([^"]+)"', src).group(1)
                path = re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(url)))
                body = re.search(r"body = jsonable_encoder\((\w+)\)", src)
                kind = TypeAdapter(inspect.signature(fn).parameters[body.group(1)].annotation) if body else None
                found.append((url.count("{"), method, path, kind))
    found.sort(key=lambda e: e[0])  # a literal segment wins over a placeholder (/points/scroll vs /points/{id})
    return [e[1:] for e in found]


def problems(method: str, path: str, body) -> list[str]:
    """Why a real server would refuse this request's body; [] when it would take it."""
    for m, pattern, kind in endpoints():
        if m == method and pattern.fullmatch(path):
            break
    else:
        return [f"{method} {path}: no such endpoint in qdrant-client's REST API"]
    if kind is None:
        return [f"{method} {path} takes no body, got {body!r}"] if body else []
    try:
        value = kind.validate_python(body)
    except ValidationError as e:
        return [f"{method} {path}: {e}"]
    return [f"{method} {path}: {p}" for p in _unknown(value, body, "body")]


def _unknown(value, raw, where: str):
    """Fields of `raw` that the validated `value` has no place for (pydantic dropped them)."""
    if isinstance(value, BaseModel) and isinstance(raw, dict):
        fields = {}
        for name, field in type(value).model_fields.items():
            fields[name] = fields[field.alias or name] = name
        for key, item in raw.items():
            if key not in fields:
                yield f"{where}.{key}: unknown field of {type(value).__name__}"
            else:
                yield from _unknown(getattr(value, fields[key]), item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)) and isinstance(raw, list):
        for i, (v, r) in enumerate(zip(value, raw)):
            yield from _unknown(v, r, f"{where}[{i}]")
    elif isinstance(value, dict) and isinstance(raw, dict):
        for key, item in raw.items():
            if key in value:
                yield from _unknown(value[key], item, f"{where}.{key}")
