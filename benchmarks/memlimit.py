"""A memory limit for one benchmark process: a memory cgroup (v1 or v2) that charges the
process's own memory AND the page cache it uses, as a machine with that much RAM would. Mapped
file pages count in VmRSS but the kernel reclaims them; a run that completes inside the cgroup
shows it needs no more than the limit. Needs root and a writable cgroup hierarchy."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Self

ROOTS = (("v1", Path("/sys/fs/cgroup/memory")), ("v2", Path("/sys/fs/cgroup/unified")),
         ("v2", Path("/sys/fs/cgroup")))
FILES = {"v1": ("memory.limit_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt"),
         "v2": ("memory.max", "memory.peak", None)}


class MemoryLimit:
    """`with MemoryLimit(8 * 2**30) as limit:` start a child that calls `join(limit.path)`;
    afterwards `limit.report()`."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit = int(limit_bytes)
        self.kind, self.path = _make(self.limit)
        # no swap to spill into: the limit is RAM
        swap = self.path / ("memory.memsw.limit_in_bytes" if self.kind == "v1" else "memory.swap.max")
        if swap.exists():
            swap.write_text(str(self.limit) if self.kind == "v1" else "0")

    def __enter__(self) -> Self:
        return self

    def report(self) -> dict:
        _, peak, fails = FILES[self.kind]
        out = {"cgroup": self.kind, "limit_gb": self.limit / 2**30,
               "peak charged_gb (own memory + page cache)":
                   int((self.path / peak).read_text()) / 2**30 if (self.path / peak).exists() else None}
        if fails:
            out["times the limit was reached (page cache reclaimed)"] = int((self.path / fails).read_text())
        events = self.path / "memory.events"
        if events.exists():
            out["events"] = dict(line.split() for line in events.read_text().splitlines())
        return out

    def __exit__(self, *exc: object) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass  # a process still inside; the kernel removes it once empty


def join(path: str) -> None:
    """Move this process (and the children it starts later) into the cgroup; as a
    subprocess's preexec_fn, before it starts, so that all its memory is charged."""
    Path(path, "cgroup.procs").write_text(str(os.getpid()))


def _make(limit: int) -> tuple[str, Path]:
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, where = line.split(":", 2)
        own[controllers] = where.lstrip("/")
    tried = []
    for kind, root in ROOTS:
        if kind == "v1" and "memory" in own and (root / "memory.limit_in_bytes").exists():
            bases = [root / own["memory"]]
        elif kind == "v2" and (root / "cgroup.controllers").exists():
            bases = [root / own.get("", ""), root]  # v2 enables memory only where nothing runs
        else:
            continue
        for base in bases:
            path = base / f"hybridstore-bench-{uuid.uuid4().hex[:8]}"
            try:
                if kind == "v2":  # let children of `base` have the memory controller
                    (base / "cgroup.subtree_control").write_text("+memory")
                path.mkdir()
            except OSError as e:
                tried.append(f"{base}: {e.strerror}")
                continue
            try:
                (path / FILES[kind][0]).write_text(str(limit))
                return kind, path
            except OSError as e:
                tried.append(f"{path / FILES[kind][0]}: {e.strerror}")
                path.rmdir()
    raise SystemExit("--memory-limit needs a writable memory cgroup (run as root on Linux with cgroups); "
                     f"tried: {'; '.join(tried) or 'no memory cgroup hierarchy found'}; run without it")
