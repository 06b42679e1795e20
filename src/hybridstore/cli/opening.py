"""The models and the index a command line asks for."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a command runs: --help stays instant
    from ..index import HybridIndex
    from ..inference import Models, ModelSpec
    from ..inference.models import Choice
    from ..settings import Settings


def models(args: argparse.Namespace, **extra: Any) -> Models:
    from ..inference import DEFAULT, Models

    def pick(value: str | None) -> Choice:
        return DEFAULT if value is None else None if value.lower() == "none" else value

    late = None if args.late in (None, "none") else args.late
    return Models(pick(args.dense), pick(args.sparse), late, image=image(args),
                  late_interaction_multimodal=pages(args), pack=args.pack,
                  batch_size=args.batch_size, threads=args.threads,
                  quantize="int8" if args.int8 else None, **extra)


def image(args: argparse.Namespace) -> str | ModelSpec | None:
    """The image model asked (--image, from --image-path / --image-text-path when given)."""
    from ..inference import ModelSpec
    from . import UsageError

    name: str | None = getattr(args, "image", None)
    folders = (getattr(args, "image_path", None), getattr(args, "image_text_path", None))
    if name is None:
        if any(folders):
            raise UsageError("--image-path / --image-text-path need --image MODEL (the model they hold)")
        return None
    if not any(folders):
        return name
    return ModelSpec(name, "image", folders[0], {"text_path": folders[1]} if folders[1] else {})


def pages(args: argparse.Namespace) -> str | ModelSpec | None:
    """The page model asked (--pages, from --pages-path when given)."""
    from ..inference import ModelSpec
    from . import UsageError

    name: str | None = getattr(args, "pages", None)
    folder: str | None = getattr(args, "pages_path", None)
    if name is None and folder:
        raise UsageError("--pages-path needs --pages MODEL (the model it holds)")
    return ModelSpec(name, "late_interaction_multimodal", folder) if name and folder else name


def index(args: argparse.Namespace, chosen: Models | None = None, existing: bool = False,
          embeds: bool = True, **where: Any) -> HybridIndex:
    """`existing`: the command reads an index, so a --path folder that is not there is a typo,
    refused before the engine would create it. `embeds=False`: the command embeds nothing
    (snapshot, delete), so it loads no model and runs without a model pack."""
    where = where or place(args, existing)
    from ..inference import Models

    # a missing model fails before the engine imports
    chosen = (chosen or models(args)).load() if embeds else Models.unloaded()
    from ..index import HybridIndex

    return HybridIndex(args.collection, chosen, settings=settings(args, **where))


def place(args: argparse.Namespace, existing: bool = False) -> dict[str, Any]:
    """--url, --location or --path (the default)."""
    from . import UsageError

    if args.url:
        return {"url": args.url, "api_key": args.api_key}
    if args.location:
        return {"location": args.location}
    if existing and not os.path.isdir(args.path):
        raise UsageError(f"no index at --path {args.path} (no such folder): check the path, or "
                         "create the index with hybridstore ingest")
    return {"path": args.path}


def settings(args: argparse.Namespace, **where: Any) -> Settings:
    """Where the index lives: `where`, else --url, --location or --path."""
    from ..settings import Settings

    where = where or place(args)
    return Settings(**where, engine=None if "url" in where else args.engine,
                    storage=getattr(args, "storage", None))
