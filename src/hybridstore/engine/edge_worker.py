"""The process that owns an `EdgeEngine`'s shards, so that edge calls (which hold the GIL, a
graph build for seconds to minutes) never stop the caller's threads.

One zygote per caller's process, started with its first engine (``python -c ZYGOTE``), imports the engine once and forks one worker per engine: a
fork of a single-threaded process that never opened a shard (the caller may run onnxruntime
threads, so it never forks itself). The caller talks to its worker over a socket pair:
``("run", collection, request)``, ``("info", collection)`` or ``("close",)`` in, ``(True,
result)`` or ``(False, exception)`` out, one at a time (`EdgeEngine` holds its lock), waiting
on the socket without the GIL.

The zygote exits when the caller's end of its socket closes (the caller exited or was
killed); the kernel then kills every worker (PR_SET_PDEATHSIG), even mid-build, so none
outlives the caller holding its shards' locks. A worker also ends when its socket closes
(its engine closed or collected). Edge writes each update to its write-ahead log before it
returns: a killed build loses nothing already written.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from multiprocessing.connection import Connection
from typing import Any, Literal

from ..errors import EngineError
from .edge_shards import EdgeShards
from .requests import Request

# qdrant-client imports fastembed when it can, and onnxruntime starts a thread on import: a
# process that forks must have one thread, and the workers embed nothing
ZYGOTE = ("import sys; sys.modules['fastembed'] = sys.modules['onnxruntime'] = None; "
          "from hybridstore.engine.edge_worker import _zygote_main; _zygote_main(int(sys.argv[1]))")
NICE = 10  # a worker yields the CPU to the caller's threads: a build never crowds out the caller
CLOSE_WAIT = 60.0  # seconds a collected engine waits for its worker to close the shards
ZYGOTE_WAIT = 10.0  # seconds the caller waits at exit for its zygote to end

# what the caller sends (an `EdgeShards` method and its arguments) and what it gets back
Message = tuple[Literal["run"], str, Request[Any]] | tuple[Literal["info"], str] | tuple[Literal["close"]]
Reply = tuple[bool, Any]  # (True, result) or (False, the exception raised)


class WorkerShards:
    """The caller's side of one worker (the `EdgeShards` of an `EdgeEngine` over `root`),
    forked on the first request; the zygote starts now, its imports (seconds on a busy
    machine) overlapping the caller's own start (models)."""

    def __init__(self, root: str, wait_close: bool = True) -> None:
        _zygote()
        self.root = root
        self.wait_close = wait_close  # False: when collected, a private folder is closed behind us
        self._conn: Connection | None = None
        self.pid: int | None = None  # the worker's
        self._pending = False  # a reply not read (the caller was interrupted): read it first
        self._stop: weakref.finalize[[Connection, float], WorkerShards] | None = None

    def run(self, collection: str, request: Request[Any]) -> Any:
        return self._call(("run", collection, request))

    def info(self, collection: str) -> dict[str, Any]:
        info: dict[str, Any] = self._call(("info", collection))
        return info

    def close(self) -> None:
        """Close the worker's shards and wait until it has: the caller may remove the folder
        next (a private one), and a shard closing writes into it. A private folder's worker
        still in an interrupted request, or not done in time, is killed: nothing there is kept."""
        if self._stop is None or self._stop.detach() is None or self._conn is None:
            return
        private = not self.wait_close
        closed = _stop(self._conn, 0 if private and self._pending else CLOSE_WAIT, self._pending)
        if not closed and private and self.pid is not None:
            _kill(self.pid)

    def _call(self, message: Message) -> Any:
        try:
            if self._conn is None:
                self._conn = _zygote().fork(self.root)
                self._stop = weakref.finalize(self, _stop, self._conn, CLOSE_WAIT if self.wait_close else 0)
                self.pid = self._conn.recv()
            if self._pending:
                self._conn.recv()
            self._conn.send(message)
            self._pending = True
            ok, value = self._conn.recv()
            self._pending = False
        except (EOFError, OSError) as e:
            self.close()
            self._conn, self._pending = None, False
            raise EngineError(f"the Qdrant Edge worker process of {self.root} ended ({e or 'closed'}); "
                              "the next request starts a new one on what it wrote") from e
        if ok:
            return value
        raise value


def _stop(conn: Connection, wait: float, pending: bool = False) -> bool:
    """Ask the worker to close its shards and wait until it has (their locks are let go); the
    reply of an interrupted request (`pending`) comes first. False: not confirmed in `wait` s
    (the worker closes them when it sees its socket closed)."""
    deadline = time.monotonic() + wait
    try:
        if pending:
            if not conn.poll(wait):
                return False
            conn.recv()
        conn.send(("close",))
        if conn.poll(max(0.0, deadline - time.monotonic())):
            conn.recv()
            return True
        return False
    except (EOFError, OSError):
        return True  # the worker is already gone: nothing is open
    finally:
        conn.close()


def _kill(pid: int) -> None:
    """Kill a worker and wait (a few seconds at most) until it is gone."""
    try:
        os.kill(pid, signal.SIGKILL)
        for _ in range(500):
            os.kill(pid, 0)
            time.sleep(0.01)
    except ProcessLookupError:
        pass  # gone


class _Zygote:
    def __init__(self) -> None:
        # packets: each request stays one message (with its socket) however fast they come
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package, os.environ.get("PYTHONPATH")])),
               "OPENBLAS_NUM_THREADS": "1"}  # no BLAS threads in a process that forks
        self.owner = os.getpid()
        self.process = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(theirs.fileno())],
                                        pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env)
        theirs.close()
        self.sock = mine
        self.lock = threading.Lock()
        # created before any worker's: at exit the workers close first, then the zygote ends
        weakref.finalize(self, _end, self.process, mine)

    def fork(self, root: str) -> Connection:
        mine, theirs = socket.socketpair()
        with theirs, self.lock:
            socket.send_fds(self.sock, [root.encode()], [theirs.fileno()])
        return Connection(mine.detach())


def _end(process: subprocess.Popen[bytes], sock: socket.socket) -> None:
    sock.close()  # the zygote reads its end, exits, and the kernel ends any worker left
    try:
        process.wait(ZYGOTE_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_zygotes: list[_Zygote] = []
_zygote_lock = threading.Lock()


def _zygote() -> _Zygote:
    with _zygote_lock:
        if not _zygotes or _zygotes[0].owner != os.getpid() or _zygotes[0].process.poll() is not None:
            _zygotes[:] = [_Zygote()]  # first use, a forked caller, or the zygote was killed
        return _zygotes[0]


# -- the zygote and its workers ----------------------------------------------------------------
def _zygote_main(fd: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel

    sock = socket.socket(fileno=fd)
    me = os.getpid()
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 1)
        if not message:
            return  # the caller is gone
        if os.fork() == 0:
            try:
                sock.close()
                _die_with(me)
                os.nice(NICE)
                _serve(Connection(fds[0]), EdgeShards(message.decode()))
            finally:
                os._exit(0)  # never back into the zygote's loop
        os.close(fds[0])


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)  # the zygote died before the line above


def _serve(conn: Connection, shards: EdgeShards) -> None:
    conn.send(os.getpid())
    try:
        while True:
            try:
                message: Message = conn.recv()
            except EOFError:
                return
            reply: Reply
            try:
                reply = (True, getattr(shards, message[0])(*message[1:]))
            except Exception as e:  # noqa: BLE001 - sent back whole: the caller raises it
                reply = (False, e)
            try:
                conn.send_bytes(_dumps(reply))
            except OSError:  # the caller is gone (a private folder's engine does not wait)
                return
            if message[0] == "close":
                return
    finally:
        shards.close()


def _dumps(reply: Reply) -> bytes:
    try:
        return pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as e:
        what = reply[1] if not reply[0] else e
        return pickle.dumps((False, EngineError(f"{type(what).__name__}: {what} (from the edge worker)")))

