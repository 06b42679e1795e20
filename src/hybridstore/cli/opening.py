"""The models and the index a command line asks for."""

from __future__ import annotations

import argparse
from typing import Any


def models(args: argparse.Namespace, **extra: Any) -> Any:
    from ..inference import DEFAULT, Models

    def pick(value: str | None) -> Any:
        return DEFAULT if value is None else None if value.lower() == "none" else value

    late = None if args.late in (None, "none") else args.late
    return Models(pick(args.dense), pick(args.sparse), late, image=image(args), pack=args.pack,
                  batch_size=args.batch_size, threads=args.threads,
                  quantize="int8" if args.int8 else None, **extra)


def image(args: argparse.Namespace) -> Any:
    """The image model asked (--image, from --image-path / --image-text-path when given)."""
    from ..inference import ModelSpec
    from . import UsageError

    name = getattr(args, "image", None)
    folders = (getattr(args, "image_path", None), getattr(args, "image_text_path", None))
    if name is None:
        if any(folders):
            raise UsageError("--image-path / --image-text-path need --image MODEL (the model they hold)")
        return None
    if not any(folders):
        return name
    return ModelSpec(name, "image", folders[0], {"text_path": folders[1]} if folders[1] else {})


def index(args: argparse.Namespace, chosen: Any = None, **where: Any) -> Any:
    chosen = (chosen or models(args)).load()  # a missing model fails before the engine imports
    from ..index import HybridIndex

    return HybridIndex(args.collection, chosen, settings=settings(args, **where))


def settings(args: argparse.Namespace, **where: Any) -> Any:
    """Where the index lives: --url, --location or --path (the default), unless `where` says."""
    from ..settings import Settings

    if not where:
        where = ({"url": args.url, "api_key": args.api_key} if args.url
                 else {"location": args.location} if args.location else {"path": args.path})
    return Settings(**where, engine=None if "url" in where else args.engine,
                    storage=getattr(args, "storage", None))
