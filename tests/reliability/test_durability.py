"""Durability: once add() returns, its records survive a SIGKILL, whole and with every vector.

A child process ingests numbered batches into an on-disk index and prints each batch whose
add() returned; the test kills it at random moments (seeded), reopens the index, and checks
every reported batch and every visible point. Each run starts the same ingest again, so the
index converges to exactly the intended content.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from qdrant_client import models as qm

from hybridstore import HybridIndex, Models
from hybridstore.engine.requests import GetSchema

from .ingest_child import BATCH, batch

ROOT = Path(__file__).resolve().parents[2]
ENGINE = os.environ.get("HYBRIDSTORE_ENGINE") or "edge"
BATCHES, KILLS = 30, 6


def run_child(folder: Path, kill: tuple[int, float] | None) -> tuple[list[int], int]:
    """Start an ingest and SIGKILL it `kill[1]` seconds after it reported batch `kill[0]` done
    (None: let it finish); the batches it reported done and its exit code. Killing on progress,
    not on the clock, lands mid-ingest on fast and slow machines alike."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.ingest_child", str(folder),
                             ENGINE, str(BATCHES)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    reached = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line.strip())
            if kill is not None and line.strip() == f"ok {kill[0]}":
                reached.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if kill is not None:
        assert reached.wait(300), f"the ingest child never reached batch {kill[0]}"
        time.sleep(kill[1])
        proc.send_signal(signal.SIGKILL)
    code = proc.wait(300)
    reader.join(10)
    return [int(line.split()[1]) for line in lines if line.startswith("ok ")], code


def check(folder: Path, committed: set[int]) -> int:
    """Every committed batch complete; every visible point whole. Returns the point count."""
    with HybridIndex("durable", Models(), path=str(folder), engine=ENGINE) as idx:
        for b in committed:
            expected = batch(b)
            assert idx.get([r.id for r in expected]) == expected, f"batch {b} was reported done"
        visible = idx.get(limit=None)
        every = {r.id: r for b in range(BATCHES) for r in batch(b)}
        for record in visible:
            assert record == every[record.id], f"{record.id} is visible but not as written"
        names = [f.name for f in idx.engine.run(idx.collection, GetSchema()).fields]
        assert len(names) == 2  # dense and sparse
        for name in names:
            has = qm.Filter(must=[qm.HasVectorCondition(has_vector=name)])
            assert idx.count(filter=has) == len(visible), f"a point without its {name!r} vector"
        return len(visible)


def test_sigkill_never_loses_what_add_returned(tmp_path):
    rng = random.Random(20261126)
    folder = tmp_path / "index"
    committed: set[int] = set()
    killed = 0
    for _ in range(KILLS):
        done, code = run_child(folder, kill=(rng.randrange(0, BATCHES - 10), rng.uniform(0.0, 0.2)))
        killed += code == -signal.SIGKILL
        committed |= set(done)
        print(f"killed={code == -signal.SIGKILL} done={len(done)} committed={len(committed)}")
        if (folder / "durable").exists() or committed:
            check(folder, committed)
    assert killed == KILLS, "a child finished before it could be killed"
    done, code = run_child(folder, kill=None)
    assert code == 0 and done == list(range(BATCHES))
    assert check(folder, set(range(BATCHES))) == BATCHES * BATCH
