"""`hybridstore inspect`: the local read-only page over the index (`hybridstore.inspector`)."""

from __future__ import annotations

import argparse
import os

from . import UsageError, opening


def cmd_inspect(args: argparse.Namespace) -> int:
    try:
        from ..inspector import endpoints, server
        from ..inspector.answers import Inspector
    except ImportError as e:
        missing = (e.name or "").split(".")[0]
        if missing not in ("starlette", "uvicorn"):
            raise
        raise UsageError(f"hybridstore inspect needs Starlette and uvicorn ({missing} is missing): "
                         "pip install 'hybridstore[inspect]'") from None
    sock = server.bind(args.host, args.port)  # a refused host or a busy port, before the models load
    try:
        with opening.index(args, existing=True) as index:
            folder = None if args.url or args.location else os.path.realpath(args.path)
            server.serve(endpoints.app(Inspector(index, folder)), sock)
    finally:
        sock.close()
    return 0
