"""Model packs: a folder with a models.json manifest mapping model names to local folders."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigurationError
from .specs import KINDS

ENV_VAR = "HYBRIDSTORE_MODELS"


@dataclass(frozen=True)
class PackEntry:
    name: str
    kind: str
    folder: Path
    dim: int | None = None
    modifier: str | None = None
    quantize: str | None = None  # "int8": the pack asks for its int8 copy (never made in place)


@dataclass(frozen=True)
class Pack:
    root: Path
    entries: dict[str, PackEntry]
    defaults: dict[str, str]

    def find(self, name: str) -> PackEntry | None:
        return self.entries.get(name) or next(
            (e for n, e in self.entries.items() if n.lower() == name.lower()), None
        )

    def names(self) -> str:
        return ", ".join(f"{n} ({e.kind})" for n, e in self.entries.items())


def load_pack(root: str | os.PathLike, given_as: str = "pack=") -> Pack:
    given, root = str(root), Path(root).expanduser().resolve()
    manifest = root / "models.json"
    if not manifest.is_file():
        where = given if given == str(root) else f"{given} (that is {root})"
        raise ConfigurationError(
            f"model pack {where}, given as {given_as}, has no models.json"
            + ("" if root.is_dir() else ": no such folder")
            + f"; point pack= or ${ENV_VAR} at the model pack's folder (the one holding models.json)"
        )
    try:
        data = json.loads(manifest.read_text())
        entries = {name: _entry(root, name, raw) for name, raw in data["models"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as e:  # AttributeError: "models" not a mapping
        raise ConfigurationError(f"model pack manifest {manifest} is malformed: {e}") from e
    return Pack(root, entries, dict(data.get("defaults", {})))


def _entry(root: Path, name: str, raw: dict) -> PackEntry:
    if raw["kind"] not in KINDS:
        raise ValueError(f"model {name!r} has unknown kind {raw['kind']!r}")
    folder = root / raw["folder"]
    if not folder.is_dir():
        raise ValueError(f"model {name!r}: folder {folder} does not exist")
    return PackEntry(name, raw["kind"], folder, raw.get("dim"), raw.get("modifier"), raw.get("quantize"))


def pack_from_env() -> Pack | None:
    root = os.environ.get(ENV_VAR)
    return load_pack(root, f"${ENV_VAR}") if root else None
