"""Scale: 100k, 300k and 1M passages on Qdrant Edge through HybridIndex, each size and storage
setting in its own process, one run (docs/scaling.md).

The passages are real text: sentences of SciFact's 5,183 abstracts. In a fixed order, so that
each size holds the smaller ones: first the 101,645 chunks of `real_vectors.py` (every sentence
and every pair of neighbouring sentences; their dense vectors are the pack's MiniLM run on that
text), then, a round over the abstracts at a time, longer passages of one abstract: windows of
3-5 neighbouring sentences, then 2, 3 and 4 sentences not all neighbours. Their text is those
sentences joined; their dense vector is the token-weighted mean of the sentences' real MiniLM
vectors, renormalized. MiniLM mean-pools token vectors, so this is what it computes for the
joined text, except for the attention between sentences; `check` measures that error on the
50k real two-sentence windows (cosine to their real vectors) and compares neighbourhoods. Sparse
vectors are the pack's BM25 over the passage text, computed by hybridstore on ingest. Queries
are SciFact's (real MiniLM query vectors, BM25 by hybridstore).

Per size: upsert points/s through `add` (optimize_threshold as given: the library's default builds
the graphs every 20,000 points), the longest stall of the Python process (a ticker thread's
largest gap) during ingest and during the final optimize, the latency of a search issued 0.5 s
into that optimize (or the EngineBusyError it got after busy_wait), peak RSS per phase (a sampler process
reads /proc), disk size, reopen time (pages evicted first), dense / sparse / hybrid / filtered
hybrid p50 and p95 through `search` at k=10, hybrid at k=100 too (dense query vector given;
BM25's included), and recall@10 of dense, hybrid and filtered against the same searches run
exactly (full scan, originals, in this process), and how far a graph search in this process
agrees with the worker's (the same graphs: a search that differs, not a graph). During the final
optimize: the longest garbage collection, when the longest stall ended, and the major page
faults of this process (its own pages read back from disk). During ingest and the optimize, each
stall over 0.1 s with the ticking thread's context switches and page faults and the machine's
CPU and memory pressure meanwhile (what held it up). `--worker on,off`: each size with Qdrant
Edge's shards in its worker process (the default) and in the caller's (as before the worker).
`--late N`: N passages with 32-token late-interaction multivectors on disk (random unit tokens:
the rerank's cost depends on shapes; the pack's ColBERT is untrained), rerank p50 cold and warm.

Usage: python benchmarks/real_vectors.py (once), then
  python benchmarks/scale.py [--sizes 100000,300000,1000000] [--settings default,large] [--late 100000]
                             [--memory-limit 8]  (GB: each run inside a memory cgroup that size, as root)
                             [--worker on,off]  (the shards in a worker process, and in this one, side by side)
writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import real_vectors
from memlimit import MemoryLimit, join
from procs import cpu, time_engine
from sizing import disk_bytes, evict

HERE = Path(__file__).resolve().parent
SETTINGS = {"default": None, "large": "large", "int8": {"quantize": "int8"}}
FILTER = {"year": 2010}  # 1 abstract in 25
BATCH = 2048


# -- the passages ------------------------------------------------------------------------------
def own_passages(count: int) -> Iterator[tuple[int, ...]]:
    """Sentence sets of an abstract of `count` sentences beyond its real chunks, in order."""
    for size in (3, 4, 5):
        for j in range(count - size + 1):
            yield tuple(range(j, j + size))
    for size in (2, 3, 4):
        for c in itertools.combinations(range(count), size):
            if c[-1] - c[0] != size - 1:  # not a window (those came first)
                yield c


def passages(docs: list[tuple[str, list[str]]], n: int) -> Iterator[tuple[int, tuple[int, ...]]]:
    """(abstract, sentence indexes) of the first `n` passages: the real chunks, then rounds."""
    made = 0
    for d, (_, sentences) in enumerate(docs):
        for part in [(j,) for j in range(len(sentences))] + [(j, j + 1) for j in range(len(sentences) - 1)]:
            if made == n:
                return
            yield d, part
            made += 1
    live = [(d, own_passages(len(s))) for d, (_, s) in enumerate(docs)]
    while live and made < n:
        still = []
        for d, it in live:
            part = next(it, None)
            if part is None:
                continue
            still.append((d, it))
            yield d, part
            made += 1
            if made == n:
                return
        live = still
    if made < n:
        raise SystemExit(f"only {made} passages can be made from {len(docs)} abstracts")


class Corpus:
    """Texts, vectors and metadata of passages, made a batch at a time (bounded memory)."""

    def __init__(self, docs: int | None = None) -> None:
        from tokenizers import Tokenizer

        from hybridstore.inference.pack import pack_from_env

        self.docs = real_vectors.abstracts(docs)
        chunk_vecs, self.query_vecs = real_vectors.load(docs)
        self.query_texts = real_vectors.queries()[:len(self.query_vecs)]
        self.offsets = np.cumsum([0] + [2 * len(s) - 1 for _, s in self.docs])
        self.chunk_vecs = chunk_vecs
        pack = pack_from_env()
        if pack is None:
            raise SystemExit("set HYBRIDSTORE_MODELS to the model pack (../shared/models)")
        tok = Tokenizer.from_file(str(pack.find("sentence-transformers/all-MiniLM-L6-v2").folder / "tokenizer.json"))
        flat = [s for _, sents in self.docs for s in sents]
        lengths = [len(e.ids) - 2 for e in tok.encode_batch(flat)]  # without [CLS] and [SEP]
        self.tokens = np.split(np.asarray(lengths, dtype=np.float32),
                               np.cumsum([len(s) for _, s in self.docs])[:-1])

    def vector(self, d: int, part: tuple[int, ...]) -> np.ndarray:
        base, count = self.offsets[d], len(self.docs[d][1])
        if len(part) == 1:
            return self.chunk_vecs[base + part[0]]
        if len(part) == 2 and part[1] == part[0] + 1:
            return self.chunk_vecs[base + count + part[0]]
        return self.mixed(d, part)

    def mixed(self, d: int, part: tuple[int, ...]) -> np.ndarray:
        base = self.offsets[d]
        v = (self.tokens[d][list(part)][:, None] * self.chunk_vecs[base + np.asarray(part)]).sum(0)
        return v / np.linalg.norm(v)

    def batches(self, n: int) -> Iterator[tuple[list, np.ndarray]]:
        from hybridstore import Record

        records, vectors = [], []
        for i, (d, part) in enumerate(passages(self.docs, n)):
            doc_id, sentences = self.docs[d]
            records.append(Record(f"p{i}", " ".join(sentences[j] for j in part),
                                  {"year": 2000 + d % 25, "sentences": len(part)}, doc_id=doc_id))
            vectors.append(self.vector(d, part))
            if len(records) == BATCH:
                yield records, np.asarray(vectors)
                records, vectors = [], []
        if records:
            yield records, np.asarray(vectors)


def check(corpus: Corpus, sample: int = 2000) -> dict:
    """How close the made vectors are to MiniLM's: on the real two-sentence windows, the
    cosine of the token-weighted mean of the two sentences' vectors to the window's own vector;
    and nearest-neighbour cosines of real chunks against made passages."""
    rng = np.random.default_rng(0)
    pairs = [(d, (j, j + 1)) for d, (_, s) in enumerate(corpus.docs) for j in range(len(s) - 1)]
    cos = np.array([corpus.mixed(d, p) @ corpus.vector(d, p) for d, p in pairs])
    made = np.asarray([corpus.mixed(d, p) for d, p in
                       itertools.islice(passages(corpus.docs, len(corpus.chunk_vecs) + sample), len(corpus.chunk_vecs),
                                        None)])
    real = corpus.chunk_vecs[rng.choice(len(corpus.chunk_vecs), min(sample, len(corpus.chunk_vecs)), replace=False)]

    def neighbours(vs: np.ndarray, pool: np.ndarray) -> dict:
        sims = vs @ pool.T
        sims[sims > 0.99999] = -1  # itself
        top = np.sort(sims, axis=1)[:, -10:]
        return {"nn1 cosine median": float(np.median(top[:, -1])), "nn10 cosine median": float(np.median(top[:, 0])),
                "any pair cosine median": float(np.median(sims[:, :500]))}

    pool = np.concatenate([corpus.chunk_vecs, made])
    return {"two-sentence windows": len(pairs), "cosine mean of the made vector to MiniLM's": float(cos.mean()),
            "cosine 5th percentile": float(np.percentile(cos, 5)),
            "real chunks, neighbours among real and made": neighbours(real, pool),
            "made passages, neighbours among real and made": neighbours(made, pool)}


# -- measuring ---------------------------------------------------------------------------------
SLOW = 0.1  # a gap over this is a stall the issue counts: each is recorded with what the system did


class Ticker:
    """The longest gap between ticks of a Python thread: how long the process stalled; and the
    longest garbage collection (it stops every thread too: a stall that is not the engine's).
    Each gap over SLOW is kept with what went on meanwhile: the ticking thread's context switches
    (voluntary: it waited, e.g. for the GIL; involuntary: it was preempted) and page faults, and
    the machine's CPU and memory pressure (Linux PSI: time some task waited for a CPU, for memory)."""

    def __init__(self) -> None:
        self.gaps: list[tuple[float, float]] = []  # (end time, gap)
        self.slow: list[dict] = []
        self.collections: list[tuple[float, float]] = []  # (end time, seconds)
        self._collecting = 0.0
        gc.callbacks.append(self._gc)
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        files = pressure_files()  # kept open: a tick reads each with one pread
        last, use, psi = time.perf_counter(), resource.getrusage(resource.RUSAGE_THREAD), pressure(files)
        while self.running:
            time.sleep(0.005)
            now = time.perf_counter()
            was, use = use, resource.getrusage(resource.RUSAGE_THREAD)
            before, psi = psi, pressure(files)
            self.gaps.append((now, now - last))
            if now - last > SLOW:
                self.slow.append({
                    "ended at": now, "gap_s": now - last,
                    "waits of this thread (voluntary switches)": use.ru_nvcsw - was.ru_nvcsw,
                    "preemptions of this thread (involuntary switches)": use.ru_nivcsw - was.ru_nivcsw,
                    "minor faults": use.ru_minflt - was.ru_minflt, "major faults": use.ru_majflt - was.ru_majflt,
                    **{f"{k} pressure: some waited_ms": (psi[k] - before[k]) / 1000 for k in psi},
                    "load average (1 min)": os.getloadavg()[0]})
            last = now
        for fd in files.values():
            os.close(fd)

    def stalls(self, start: float, end: float) -> list[dict]:
        """The gaps over SLOW overlapping [start, end] (as `longest` counts them), "ended at"
        counted from `start`."""
        return [{**s, "ended at": s["ended at"] - start} for s in list(self.slow)
                if s["ended at"] >= start and s["ended at"] - s["gap_s"] <= end]

    def _gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._collecting = time.perf_counter()
        else:
            now = time.perf_counter()
            self.collections.append((now, now - self._collecting))

    def when_longest(self, start: float, end: float) -> float:
        """When the longest gap overlapping [start, end] ended (perf_counter time)."""
        return max(((g, t) for t, g in list(self.gaps) if t >= start and t - g <= end), default=(0.0, start))[1]

    def longest(self, start: float, end: float, gaps: list[tuple[float, float]] | None = None) -> float:
        """The longest gap (or collection) overlapping [start, end] (perf_counter times)."""
        gaps = self.gaps if gaps is None else gaps
        return max((g for t, g in list(gaps) if t >= start and t - g <= end), default=0.0)


def pressure_files() -> dict[str, int]:
    """Linux PSI's files, open ({}: no PSI here)."""
    out = {}
    for kind in ("cpu", "memory"):
        with contextlib.suppress(OSError):
            out[kind] = os.open(f"/proc/pressure/{kind}", os.O_RDONLY)
    return out


def pressure(files: dict[str, int]) -> dict[str, int]:
    """Microseconds some task has waited for a CPU, for memory, since boot (PSI's "some" total)."""
    return {kind: int(os.pread(fd, 256, 0).split(b"\n", 1)[0].rsplit(b"total=", 1)[1]) for kind, fd in files.items()}


SAMPLE = """
import os, sys, time
def tree(pid):  # the process and its descendants (Qdrant Edge's worker, its zygote), not this one
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
    except OSError:
        kids = []
    return [pid] + [p for k in kids if int(k) != os.getpid() for p in tree(k)]
def kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(f.read().split(key + ":")[1].split()[0])
    except (OSError, IndexError):
        return 0
out = open(sys.argv[2], "w")
while kb(sys.argv[1], "VmRSS"):
    pids = tree(sys.argv[1])
    out.write("%f %d %d\\n" % (time.time(), *(sum(kb(p, k) for p in pids) for k in ("VmRSS", "RssAnon"))))
    out.flush()
    time.sleep(0.05)
"""


class Sampler:
    """Another process reads this one's VmRSS (with its descendants': Qdrant Edge's worker process
    and its zygote) every 50 ms; peaks per phase afterwards."""

    def __init__(self, out: Path) -> None:
        import os

        code = SAMPLE
        self.out = out
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(os.getpid()), str(out)])
        self.phases: dict[str, tuple[float, float]] = {}

    def phase(self, name: str, start: float) -> None:
        self.phases[name] = (start, time.time())

    def peaks(self) -> dict[str, dict[str, float]]:
        """Per phase, peak MB of all resident memory (VmRSS: mapped file pages too, which the
        page cache can drop) and of the process's own (RssAnon)."""
        self.proc.terminate()
        rows = [tuple(map(float, line.split())) for line in self.out.read_text().splitlines() if line.count(" ") == 2]
        return {name: {kind: max((r[i] for r in rows if a <= r[0] <= b), default=0.0) / 1024
                       for i, kind in ((1, "VmRSS"), (2, "RssAnon"))} for name, (a, b) in self.phases.items()}


def exactly():
    """Searches run as full scans over the original vectors while inside (the ground truth)."""
    import contextlib

    import qdrant_edge as edge

    @contextlib.contextmanager
    def patched():
        real = edge.SearchParams
        edge.SearchParams = lambda **_: real(exact=True, quantization=edge.QuantizationSearchParams(ignore=True))
        try:
            yield
        finally:
            edge.SearchParams = real
    return patched()


def percentiles(took: list[float]) -> dict:
    return {"p50_ms": 1000 * float(np.median(took)), "p95_ms": 1000 * float(np.percentile(took, 95))}


def one(n: int, setting: str, queries: int, recall_queries: int, threshold: int | None, docs: int | None,
        worker: bool = True) -> dict:
    from hybridstore import HybridIndex, Models
    from hybridstore.engine import EdgeEngine

    storage = SETTINGS[setting]
    work = Path(tempfile.mkdtemp(prefix=f"scale-{n}-{setting}-"))
    sampler = Sampler(work / "rss.txt")
    ticker = Ticker()
    corpus = Corpus(docs)
    models = Models()  # the pack's defaults; the dense vectors are given

    def open_index(in_worker: bool = worker) -> HybridIndex:  # worker=False: the shards in this process
        return HybridIndex("scale", models, engine=EdgeEngine(path=str(work / "db"), worker=in_worker),
                           storage=storage, optimize_threshold=threshold,
                           payload_indexes={"year": "integer"})  # what a filtered collection at scale needs

    index = open_index()
    say(f"{n} {setting}: ingest")
    made_s, add_s, stalls = 0.0, 0.0, []
    t0, start = time.time(), time.perf_counter()
    batches = corpus.batches(n)
    while True:
        a = time.perf_counter()
        batch = next(batches, None)
        made_s += time.perf_counter() - a
        if batch is None:
            break
        a = time.perf_counter()
        index.add(batch[0], dense=batch[1])
        b = time.perf_counter()
        add_s += b - a
        stalls.append(ticker.longest(a, b))
        if stalls[-1] > 1:
            say(f"an add stalled {stalls[-1]:.1f} s")
    ingest_wall = time.perf_counter() - start
    sampler.phase("ingest", t0)
    say(f"optimize (ingest took {ingest_wall:.0f} s)")
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_majflt  # pages this process read back from disk
    t0, a = time.time(), time.perf_counter()
    build = threading.Thread(target=index.optimize)
    build.start()
    during = search_during(index, corpus, a)
    build.join()
    optimize_s, optimize_start = time.perf_counter() - a, a
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_majflt - faults
    optimize_stall = ticker.longest(a, a + optimize_s)
    sampler.phase("optimize", t0)
    index.close()
    index.engine.close()
    say(f"reopen (optimize took {optimize_s:.0f} s)")
    disk = disk_bytes(work / "db")
    evict(work / "db")
    t0, a = time.time(), time.perf_counter()
    index = open_index()
    index.open()
    reopen_s = time.perf_counter() - a
    texts, vecs = corpus.query_texts[:queries], corpus.query_vecs[:queries]
    a = time.perf_counter()
    index.search(texts[0], 10, dense_vector=vecs[0])
    first_s = time.perf_counter() - a
    sampler.phase("reopen", t0)
    say("queries")
    t0 = time.time()
    modes = {"dense": {"mode": "dense"}, "sparse": {"mode": "sparse"}, "hybrid": {}, "filtered hybrid": {"filter": FILTER}}
    result = {"points": n, "setting": setting, "worker process": worker, "optimize_threshold": threshold, "storage": index.info()["storage_settings"],
              "segments": index.engine.info("scale")["segments"]}
    found: dict[str, list] = {}
    engine_ms = time_engine(index)  # the engine call alone: no BM25 query, plan or records
    for label, options in {**modes, "hybrid k=100": {}}.items():
        k = 100 if label.endswith("k=100") else 10
        took, found[label] = [], []
        engine_ms.clear()
        for text, q in zip(texts, vecs):
            a = time.perf_counter()
            hits = index.search(text, k, dense_vector=q, **options)
            took.append(time.perf_counter() - a)
            found[label].append({h.record.id for h in hits})
        result[label] = {**percentiles(took), "engine p50_ms": float(np.median(engine_ms))}
    sampler.phase("queries", t0)
    index.close()
    index.engine.close()
    say("exact searches")
    index = open_index(in_worker=False)  # exactly() patches the binding in this process
    result["points seen in this process"] = index.count()
    for label, options in modes.items():  # the same graphs searched here: tells a graph from a search apart
        if label == "sparse":
            continue
        shares = [len(found[label][i] & {h.record.id for h in index.search(texts[i], 10, dense_vector=vecs[i], **options)}) / 10
                  for i in range(min(recall_queries, queries))]
        result[label]["agreement@10 with a search in this process"] = float(np.mean(shares))
    with exactly():
        for label, options in modes.items():
            if label == "sparse":  # a sparse search is exact already
                continue
            shares = [len(found[label][i] & {h.record.id for h in index.search(texts[i], 10, dense_vector=vecs[i], **options)}) / 10
                      for i in range(min(recall_queries, queries))]
            result[label]["recall@10 vs exact"] = float(np.mean(shares))
    index.close()
    index.engine.close()
    ticker.running = False
    peaks = sampler.peaks()
    shutil.rmtree(work)
    result.update({
        "ingest": {"points_per_s (add)": n / add_s, "points_per_s (wall, passages made too)": n / ingest_wall,
                   "add_s": add_s, "making passages_s": made_s, "longest stall_s": max(stalls),
                   "adds stalled over 1 s": sum(s > 1 for s in stalls),
                   "longest garbage collection_s": ticker.longest(start, start + ingest_wall, ticker.collections),
                   f"stalls over {SLOW} s": ticker.stalls(start, start + ingest_wall)},
        "optimize": {"seconds": optimize_s, "longest stall_s": optimize_stall, "search issued during it": during,
                     "longest garbage collection_s": ticker.longest(optimize_start, optimize_start + optimize_s,
                                                                    ticker.collections),
                     "major page faults of this process": faults,
                     "longest stall ended at_s": ticker.when_longest(optimize_start, optimize_start + optimize_s)
                     - optimize_start,
                     f"stalls over {SLOW} s": ticker.stalls(optimize_start, optimize_start + optimize_s)},
        "peak_rss_mb": {**peaks, "whole run (ru_maxrss)": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024},
        "disk_mb": disk / 2**20, "disk_bytes_per_point": disk / n, "reopen_s": reopen_s, "first search_s": first_s})
    return result


def search_during(index, corpus: Corpus, start: float, after: float = 0.5) -> dict:
    """A search issued `after` s into the build: when it was answered, or the error it got
    (EngineBusyError after the index's busy_wait)."""
    from hybridstore import EngineBusyError

    time.sleep(after)
    a = time.perf_counter()
    try:
        index.search(corpus.query_texts[0], 10, dense_vector=corpus.query_vecs[0])
        outcome = "answered"
    except EngineBusyError as e:
        outcome = f"EngineBusyError: {e}"
    return {"issued_at_s": a - start, "took_s": time.perf_counter() - a, "outcome": outcome}


def late(n: int, queries: int, tokens: int = 32) -> dict:
    """Hybrid + late-interaction rerank over `n` points with multivectors on disk (engine level)."""
    from hybridstore.engine import EdgeEngine
    from hybridstore.engine.requests import Create, Optimize, Query, Write
    from hybridstore.qdrant.payload import Point, SparseVec
    from hybridstore.qdrant.query import SearchRequest, build_plan, resolve
    from hybridstore.qdrant.schema import build_schema
    from hybridstore.qdrant.storage import Storage

    work = Path(tempfile.mkdtemp(prefix="scale-late-"))
    storage = Storage(late_on_disk=True)
    schema = build_schema({"dense": 384, "sparse": None, "late_interaction": 384}, {"sparse": "idf"})
    engine = EdgeEngine(path=str(work))
    engine.run("late", Create(schema, storage=storage))
    rng = np.random.default_rng(0)

    def unit(*shape: int) -> np.ndarray:
        v = rng.normal(size=shape).astype(np.float32)
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    start = time.perf_counter()
    for lo in range(0, n, 512):
        m = min(512, n - lo)
        dense, late_vecs = unit(m, 384), unit(m, tokens, 384)
        engine.run("late", Write([Point(f"00000000-0000-0000-0000-{lo + i:012d}",
                                        {"dense": dense[i].tolist(), "sparse": SparseVec(sorted(rng.choice(30000, 40, replace=False).tolist()), [1.0] * 40),
                                         "late": late_vecs[i]}, {"page_content": ""}) for i in range(m)]))  # arrays, as ingest passes them
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    engine.run("late", Optimize())
    optimize_s = time.perf_counter() - start
    engine.close()
    disk = disk_bytes(work)
    evict(work)
    engine = EdgeEngine(path=str(work))
    names = {"dense": "dense", "sparse": "sparse", "late_interaction": "late"}
    req = resolve(SearchRequest(k=10, rerank=True), set(names))
    result = {"points": n, "tokens per point": tokens, "storage": storage.stored(), "write_s": write_s,
              "optimize_s": optimize_s, "disk_mb": disk / 2**20}
    for rnd in ("cold (pages evicted)", "warm"):
        took = []
        qrng = np.random.default_rng(1)  # the same queries both rounds
        for _ in range(queries):
            q = qrng.normal(size=(tokens + 1, 384)).astype(np.float32)
            q /= np.linalg.norm(q, axis=1, keepdims=True)
            plan = build_plan(req, {"dense": q[0].tolist(), "sparse": SparseVec([1, 5, 9], [1.0, 1.0, 1.0]),
                                    "late_interaction": q[1:].tolist()}, names, None)
            a = time.perf_counter()
            engine.run("late", Query(plan))
            took.append(time.perf_counter() - a)
        result[f"rerank of {req.candidates()} candidates, {rnd}"] = percentiles(took)
    engine.close()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    shutil.rmtree(work)
    return result


def say(what: str) -> None:
    """Progress on stderr (the parent appends it to scale.log in the temp folder)."""
    print(f"{time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def run(args: list[str], memory_limit_gb: float = 0) -> dict:
    """One child process; with a memory limit, inside a memory cgroup of that size."""
    log = Path(tempfile.gettempdir()) / "scale.log"
    with (MemoryLimit(int(memory_limit_gb * 2**30)) if memory_limit_gb else contextlib.nullcontext()) as limit, \
            open(log, "a") as err:
        proc = subprocess.run([sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=err, text=True,
                              cwd=HERE, preexec_fn=(lambda: join(str(limit.path))) if limit else None)
        report = limit.report() if limit else None
    if proc.returncode:
        raise SystemExit(f"{args} failed (exit {proc.returncode}; memory limit: {report}):\n{log.read_text()[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if report:
        out["memory limit"] = report
    print(json.dumps(out), flush=True)
    return out


def main(sizes: tuple[int, ...] = (100_000, 300_000, 1_000_000), settings: tuple[str, ...] = ("default",),
         queries: int = 300, recall_queries: int = 100, threshold: int | None = 20_000, late_points: int = 0,
         docs: int | None = None, out: Path = HERE / "results" / "scale.json", memory_limit_gb: float = 0,
         workers: tuple[str, ...] = ("on",)) -> dict:
    common = ["--queries", str(queries), "--recall-queries", str(recall_queries),
              "--threshold", str(threshold or 0), *(["--docs", str(docs)] if docs else [])]
    result: dict = {"machine": cpu(), "vectors": check(Corpus(docs)), "runs": []}
    print(json.dumps(result["vectors"]), flush=True)
    for n in sizes:
        for s in settings:
            for w in workers:  # "off": the shards in the caller's process (as before the worker), side by side
                result["runs"].append(run(["--one", str(n), "--setting", s, "--worker-mode", w, *common], memory_limit_gb))
    if late_points:
        result["late"] = run(["--late-one", str(late_points), "--queries", str(queries)], memory_limit_gb)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="100000,300000,1000000")
    p.add_argument("--settings", default="default")
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--recall-queries", type=int, default=100)
    p.add_argument("--threshold", type=int, default=20_000, help="optimize_threshold (0: only at the end)")
    p.add_argument("--late", type=int, default=0, help="points of the late-interaction run (0: none)")
    p.add_argument("--docs", type=int, default=None, help="the first DOCS abstracts only (small runs)")
    p.add_argument("--out", type=Path, default=HERE / "results" / "scale.json")
    p.add_argument("--memory-limit", type=float, default=0,
                   help="GB: run each size inside a memory cgroup of this size (own memory + page cache; root)")
    p.add_argument("--worker", default="on", help="on, off or on,off: Qdrant Edge's shards in a worker process "
                   "(the default) or in this one (before the worker)")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    p.add_argument("--worker-mode", default="on", help=argparse.SUPPRESS)
    p.add_argument("--setting", default="default", help=argparse.SUPPRESS)
    p.add_argument("--late-one", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.setting, a.queries, a.recall_queries, a.threshold or None, a.docs,
                             a.worker_mode == "on")))
    elif a.late_one:
        print(json.dumps(late(a.late_one, a.queries)))
    else:
        main(tuple(int(n) for n in a.sizes.split(",")), tuple(a.settings.split(",")), a.queries, a.recall_queries,
             a.threshold or None, a.late, a.docs, a.out, a.memory_limit, tuple(a.worker.split(",")))
