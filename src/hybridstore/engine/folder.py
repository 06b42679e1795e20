"""On-disk index folders: which embedded engine wrote one, and the lock that keeps one
folder to one open index.

The lock is a `flock` on ``<folder>/.hybridstore.lock``, taken when an engine is built. A
second open in another process fails at once. A second open in this process waits for its
first call: by then the first holder may be gone, as when a notebook cell that rebinds
``store = HybridVectorStore(path=...)`` runs again (the new store is built while the old
one is still bound; the old one is released once the name is rebound). If the first holder
is still open at that call, the error names it and how to close it.
"""

from __future__ import annotations

import fcntl
import gc
import os
import sys
import threading
import weakref
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from ..errors import ConfigurationError, StorageLockedError

if TYPE_CHECKING:
    from .base import Engine

LOCK_FILE = ".hybridstore.lock"
EDGE_CONFIG = "edge_config.json"  # in each collection folder Qdrant Edge writes
LOCAL_META = "meta.json"  # at the root of a folder qdrant-client's local mode writes

_held: dict[str, weakref.ref[FolderLock]] = {}  # folder -> the FolderLock of this process holding it
_registry_lock = threading.Lock()


def written_by(root: str) -> list[str]:
    """The embedded engines whose files are in `root`: "edge", "local", both or neither."""
    folder = Path(root)
    found: list[str] = []
    if folder.is_dir() and any((c / EDGE_CONFIG).is_file() for c in folder.iterdir() if c.is_dir()):
        found.append("edge")
    if (folder / LOCAL_META).is_file() or (folder / "collection").is_dir():
        found.append("local")
    return found


def check_layout(root: str, engine: str) -> None:
    """Refuse a folder the other embedded engine wrote: it would open as empty, and the
    first add would write a second store beside the first."""
    others = [e for e in written_by(root) if e != engine]
    if not others:
        return
    if engine == "edge":
        raise ConfigurationError(
            f"the folder {root} was written by qdrant-client's local mode, not Qdrant Edge; open "
            "it with engine='local' (CLI: --engine local), or give Qdrant Edge a folder of its own")
    raise ConfigurationError(
        f"the folder {root} holds Qdrant Edge collections, not qdrant-client local-mode files; "
        "open it with engine='edge' (the default; CLI: --engine edge), or give local mode a "
        "folder of its own")


class FolderLock:
    """Exclusive use of one folder by one engine (see the module docstring)."""

    def __init__(self, root: str, engine: str, user: Engine | None = None) -> None:
        self.root = os.path.abspath(root)
        self.engine = engine
        self.user = weakref.ref(user) if user is not None else None  # the engine it locks for
        self.owner = f"an {engine} engine"  # HybridIndex names itself here
        self._fd: list[int] = []  # shared with the finalizer, which must not hold self
        self._finalizer = weakref.finalize(self, _release, self.root, self._fd)
        self.try_acquire()

    @property
    def held(self) -> bool:
        return bool(self._fd)

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False while another object of this process holds it.
        Another process holding it is an error at once."""
        if self._fd:
            return True
        if _holder(self.root) is not None:
            gc.collect()  # an unreachable holder in a reference cycle lets go here
            if _holder(self.root) is not None:
                return False
        os.makedirs(self.root, exist_ok=True)
        fd = os.open(os.path.join(self.root, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise locked_error(self.root, f"another process ({who})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()}".encode(), 0)
        self._fd.append(fd)
        with _registry_lock:
            _held[self.root] = weakref.ref(self)
        return True

    def require(self) -> None:
        """Hold the lock or raise, naming the object of this process that holds it."""
        if self.try_acquire():
            return
        holder = _holder(self.root)
        raise locked_error(self.root, f"this process, by {holder.owner if holder else 'another index'}",
                           "(.close(), or open it in a `with` block; `del` it when nothing else "
                           "refers to it)")

    def release(self) -> None:
        self._finalizer()


def locked_error(root: str, where: str, how: str = "") -> StorageLockedError:
    """The one message for a folder another index holds, whichever lock told."""
    return StorageLockedError(
        f"the index at {root} is already open in {where}; close that one first {how}".rstrip()
        + "; to use it from two objects share it (a store's index=, a HybridIndex's engine=), "
        "or use a Qdrant server (url=...) for shared access")


def holding_engine(root: str, kind: str) -> Engine | None:
    """The live engine of this process, of `kind`, that holds the folder `root`, or None."""
    holder = _holder(os.path.abspath(root))
    if holder is None or holder.engine != kind or holder.user is None:
        return None
    return holder.user()


def _holder(root: str) -> FolderLock | None:
    with _registry_lock:
        ref = _held.get(root)
        holder = ref() if ref else None
        if ref is not None and (holder is None or not holder.held):
            del _held[root]
            return None
        return holder


def _release(root: str, fds: list[int]) -> None:
    while fds:
        fd = fds.pop()
        with _registry_lock:
            ref = _held.get(root)
            holder = ref() if ref is not None else None
            if ref is not None and (holder is None or not holder.held):
                del _held[root]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def opened_at() -> str:
    """file:line of the first frame outside hybridstore and the frameworks: the user's code."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # hybridstore/
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith((package, "<frozen")) or "site-packages" in name):
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back
    return "an unknown place"
