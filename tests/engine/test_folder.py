"""`engine.folder`: which embedded engine wrote a folder (`written_by`), the refusal of a folder
the other one wrote (`check_layout`), and `FolderLock`: one folder, one open index; a second
open in this process waits for its first call and then names the holder, one in another
process fails at once naming that process; a holder let go (closed, collected, or unreachable
in a cycle) frees the folder."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys

import pytest

from hybridstore.engine import ClientEngine, EdgeEngine
from hybridstore.engine.folder import (
    LOCK_FILE,
    FolderLock,
    check_layout,
    holding_engine,
    locked_error,
    opened_at,
    written_by,
)
from hybridstore.engine.requests import Create, GetSchema
from hybridstore.errors import ConfigurationError, StorageLockedError
from hybridstore.qdrant.schema import Schema, VectorField

ENGINE = os.environ.get("HYBRIDSTORE_ENGINE") or "edge"
SCHEMA = Schema((VectorField("dense", "dense", 2),))


def engine_on(path) -> EdgeEngine | ClientEngine:
    return EdgeEngine(path=str(path)) if ENGINE == "edge" else ClientEngine(path=str(path))


# -- which engine wrote a folder -----------------------------------------------------------
def test_written_by_reads_each_engines_files(tmp_path):
    assert written_by(str(tmp_path)) == [] and written_by(str(tmp_path / "absent")) == []
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "edge_config.json").write_text("{}")
    assert written_by(str(tmp_path)) == ["edge"]
    (tmp_path / "meta.json").write_text("{}")
    assert written_by(str(tmp_path)) == ["edge", "local"]
    local = tmp_path / "local"
    (local / "collection").mkdir(parents=True)  # local mode's folder of collections
    assert written_by(str(local)) == ["local"]


def test_each_engine_writes_what_written_by_reads(tmp_path):
    engine = engine_on(tmp_path)
    engine.run("c", Create(SCHEMA))
    assert written_by(str(tmp_path)) == [ENGINE]
    assert engine.describe()["folder_written_by"] == [ENGINE]
    engine.close()


def test_the_other_engines_folder_is_refused_naming_the_engine_to_use(tmp_path):
    edge_dir, local_dir = tmp_path / "e", tmp_path / "l"
    (edge_dir / "c").mkdir(parents=True)
    (edge_dir / "c" / "edge_config.json").write_text("{}")
    (local_dir).mkdir()
    (local_dir / "meta.json").write_text("{}")
    with pytest.raises(ConfigurationError, match=r"written by qdrant-client's local mode, not Qdrant Edge; open "
                                                 r"it with engine='local' \(CLI: --engine local\)"):
        check_layout(str(local_dir), "edge")
    with pytest.raises(ConfigurationError, match=r"holds Qdrant Edge collections.*engine='edge' \(the default; "
                                                 r"CLI: --engine edge\), or give local mode a folder of its own"):
        check_layout(str(edge_dir), "local")
    assert check_layout(str(edge_dir), "edge") is None and check_layout(str(local_dir), "local") is None
    assert check_layout(str(tmp_path / "new"), "edge") is None


def test_an_engine_refuses_the_other_engines_folder_and_writes_nothing(tmp_path):
    other = "local" if ENGINE == "edge" else "edge"
    first = EdgeEngine(path=str(tmp_path)) if other == "edge" else ClientEngine(path=str(tmp_path))
    first.run("c", Create(SCHEMA))
    first.close()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(ConfigurationError, match=f"engine='{other}'"):
        engine_on(tmp_path)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


# -- the lock ------------------------------------------------------------------------------
def test_a_second_lock_in_this_process_waits_then_names_the_holder(tmp_path):
    first = FolderLock(str(tmp_path), "edge")
    assert first.held and (tmp_path / LOCK_FILE).read_text() == f"process {os.getpid()}"
    first.owner = "HybridIndex('rice') opened at notebook.py:3"
    second = FolderLock(str(tmp_path), "edge")  # built: no error until it is used
    assert not second.held and not second.try_acquire()
    with pytest.raises(StorageLockedError) as err:
        second.require()
    message = str(err.value)
    assert message.startswith(f"the index at {tmp_path} is already open in this process, by "
                              "HybridIndex('rice') opened at notebook.py:3; close that one first (.close(), ")
    assert "share it (a store's index=, a HybridIndex's engine=)" in message and "url=" in message
    first.release()
    assert not first.held
    second.require()  # the holder closed: the folder is free
    assert second.held
    second.release()


def test_a_collected_holder_frees_the_folder_even_in_a_reference_cycle(tmp_path):
    class Holder:
        pass

    holder = Holder()
    holder.me = holder  # unreachable only to the cycle collector
    holder.lock = FolderLock(str(tmp_path), "local")
    gc.disable()  # the lock's own gc.collect() must do it
    try:
        del holder
        assert FolderLock(str(tmp_path), "local").held
    finally:
        gc.enable()


def test_a_lock_held_by_another_process_fails_at_once_naming_it(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c",
         ("import fcntl, os, sys\n"
         f"fd = os.open({str(tmp_path / LOCK_FILE)!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, f'process {os.getpid()}'.encode())\n"
         "print('held', flush=True); sys.stdin.read()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(StorageLockedError, match=rf"the index at {re.escape(str(tmp_path))} is already open in another "
                                                     rf"process \(process {child.pid}\); close that one first; "
                                                     "to use it from two objects share it"):
            FolderLock(str(tmp_path), "edge")
    finally:
        child.communicate("", timeout=60)
    assert FolderLock(str(tmp_path), "edge").held  # that process ended: free


def test_a_second_engine_on_a_folder_fails_at_its_first_call_until_the_first_closes(tmp_path):
    first = engine_on(tmp_path)
    first.run("c", Create(SCHEMA))
    second = engine_on(tmp_path)
    with pytest.raises(StorageLockedError, match=rf"already open in this process, by an {ENGINE} engine"):
        second.run("c", GetSchema())
    first.close()
    assert second.run("c", GetSchema()) == SCHEMA  # what the first wrote, now through the second
    second.close()


def test_holding_engine_finds_the_live_engine_of_the_folder(tmp_path):
    engine = engine_on(tmp_path)
    assert holding_engine(str(tmp_path), ENGINE) is engine
    assert holding_engine(str(tmp_path / "."), ENGINE) is engine  # the same folder, spelt otherwise
    assert holding_engine(str(tmp_path), "local" if ENGINE == "edge" else "edge") is None
    engine.close()
    assert holding_engine(str(tmp_path), ENGINE) is None
    assert holding_engine(str(tmp_path / "elsewhere"), ENGINE) is None


def test_locked_error_and_opened_at():
    err = locked_error("/x", "another process (process 1)")
    assert isinstance(err, StorageLockedError)
    assert str(err) == ("the index at /x is already open in another process (process 1); close that one first; "
                        "to use it from two objects share it (a store's index=, a HybridIndex's engine=), "
                        "or use a Qdrant server (url=...) for shared access")
    here = opened_at()
    assert here.startswith(__file__ + ":") and here.rsplit(":", 1)[1].isdigit()
