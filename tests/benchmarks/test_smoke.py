"""A small run of benchmarks/frameworks.py: every system builds, ingests, answers, and its
metrics agree with ranx (the full run is not part of the tests: too slow for CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def test_frameworks_benchmark_smoke(tmp_path):
    env = {**os.environ, "HYBRIDSTORE_BENCH_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(BENCH / "frameworks.py"), "--smoke"], cwd=BENCH, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    sys.path.insert(0, str(BENCH))
    from frameworks_systems import SYSTEMS

    assert [r["system"] for r in rows] == list(SYSTEMS)
    for r in rows:
        assert r["ingest_docs_per_s"] > 0 and r["peak_rss_mb_ingest"] > 0
        assert r["cache"]["hits"] >= 60  # the quality phase really served cached documents
        for mode, m in r["modes"].items():
            assert 0.0 <= m["ndcg@10"] <= 1.0 and 0.0 <= m["recall@100"] <= 1.0, (r["system"], mode)
            assert abs(m["ndcg@10"] - m["ranx ndcg@10"]) < 1e-6


def test_completeness_benchmark_smoke(tmp_path):
    sys.path.insert(0, str(BENCH))
    from completeness import main

    result = main(docs=20, queries=3, points=500, out=tmp_path / "completeness.json")
    assert result["per_query"]["check_us_per_call"] > 0
    assert result["per_open"]["count_both_vectors_ms_median"] > 0
    assert json.loads((tmp_path / "completeness.json").read_text()) == result


def test_second_writer_benchmark_smoke():
    sys.path.insert(0, str(BENCH))
    from second_writer import child

    result = child("edge", 50, searches=2, adds=1)
    assert len(result["search_ms"]) == 2 and len(result["add_ms"]) == 1
    assert result["count lacking ms"][0] > 0 and result["get schema ms"][0] > 0


def test_tenants_benchmark_smoke(tmp_path):
    env = {**os.environ, "HYBRIDSTORE_BENCH_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(BENCH / "tenants.py"), "--tenants", "3", "--limit", "60",
                          "--max-queries", "5", "--out", str(tmp_path / "tenants.json")], cwd=BENCH, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads((tmp_path / "tenants.json").read_text())
    assert set(result["modes"]) == {"hybrid", "dense", "sparse"} and result["tenants"] == 3
    for m in result["modes"].values():
        assert 0.0 <= m["ndcg@10 shared"] <= 1.0 and 0.0 <= m["ndcg@10 separate"] <= 1.0


def test_quantized_benchmark_smoke(tmp_path):
    sys.path.insert(0, str(BENCH))
    from quantized import main

    result = main(limit=20, max_queries=3, out=tmp_path / "quantized.json")
    assert [r["quantize"] for r in (result["runs"]["float32"][0], result["runs"]["int8"][0])] == ["float32", "int8"]
    assert result["ratios (int8 / float32)"]["ingest_docs_per_s"] > 0
    assert set(result["quality difference (int8 - float32)"]) == {
        f"{m} {k}" for m in ("hybrid", "dense") for k in ("ndcg@10", "recall@100")}


def test_prefetch_benchmark_smoke(tmp_path):
    env = {**os.environ, "HYBRIDSTORE_BENCH_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(BENCH / "prefetch.py"), "--limit", "60", "--max-queries", "5",
                          "--out", str(tmp_path / "prefetch.json")], cwd=BENCH, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    runs = json.loads((tmp_path / "prefetch.json").read_text())["runs"]
    assert set(runs) == {f"oversample {o}, k={k}" for o in (1, 2, 4) for k in (10, 100)}
    assert all(0.0 <= r["ndcg@10"] <= 1.0 and r["p50_ms (sparse query embedding included)"] > 0 for r in runs.values())


def test_threads_benchmark_smoke(tmp_path):
    out = subprocess.run([sys.executable, str(BENCH / "threads.py"), "--limit", "5", "--max-queries", "3",
                          "--out", str(tmp_path / "threads.json")], cwd=BENCH, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads((tmp_path / "threads.json").read_text())
    assert set(result["runs"]) == {"default", "threads=1", "threads=2", "threads=1 parallel=2"}
    assert all(r[0]["ingest_docs_per_s"] > 0 and set(r[0]["queries_per_s"]) == {"1", "2", "4"}
               for r in result["runs"].values())


def test_sizing_benchmark_smoke(tmp_path):
    out = subprocess.run([sys.executable, str(BENCH / "sizing.py"), "--points", "1000,2000", "--queries", "20",
                          "--tokens", "4", "--out", str(tmp_path / "sizing.json")], cwd=BENCH,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    runs = {r["setting"]: r for r in json.loads((tmp_path / "sizing.json").read_text())["runs"]}
    assert set(runs) == {"default", "int8", "on_disk", "float16", "large"}
    assert runs["large"]["storage"]["quantize"] == "int8" and runs["default"]["storage"]["quantize"] is None
    assert all(r["disk_bytes_per_point"] > 384 * 2 and r["dense_recall@10"] >= 0.9 for r in runs.values())


def test_scale_benchmark_smoke(tmp_path):
    env = {**os.environ, "HYBRIDSTORE_BENCH_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(BENCH / "scale.py"), "--sizes", "2000", "--settings", "default,large",
                          "--worker", "on,off",
                          "--docs", "40", "--queries", "20", "--recall-queries", "10", "--threshold", "1000",
                          "--late", "1000", "--out", str(tmp_path / "scale.json")], cwd=BENCH, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads((tmp_path / "scale.json").read_text())
    assert 0.8 < result["vectors"]["cosine mean of the made vector to MiniLM's"] <= 1.0
    runs = result["runs"]
    assert [(r["points"], r["setting"], r["worker process"]) for r in runs] == [
        (2000, s, w) for s in ("default", "large") for w in (True, False)]
    assert [r["storage"]["quantize"] for r in runs] == [None, None, "int8", "int8"]
    for r in runs:
        assert r["ingest"]["points_per_s (add)"] > 0 and r["reopen_s"] > 0 and r["disk_bytes_per_point"] > 384
        assert r["peak_rss_mb"]["ingest"]["RssAnon"] > 0 and r["peak_rss_mb"]["queries"]["VmRSS"] > 0
        during = r["optimize"]["search issued during it"]  # answered, or refused after busy_wait
        assert during["outcome"] == "answered" or during["outcome"].startswith("EngineBusyError")
        for mode in ("dense", "hybrid", "filtered hybrid"):
            assert r[mode]["p50_ms"] > 0 and r[mode]["recall@10 vs exact"] >= 0.8, (r["setting"], mode)
        assert isinstance(r["ingest"]["stalls over 0.1 s"], list) and isinstance(r["optimize"]["stalls over 0.1 s"], list)
    assert result["late"]["storage"]["late_on_disk"] and result["late"]["rerank of 40 candidates, warm"]["p50_ms"] > 0


def _memory_limit(limit: int):
    """(a MemoryLimit, None), or (None, the refusal) where no memory cgroup can be written."""
    sys.path.insert(0, str(BENCH))
    import memlimit

    try:
        return memlimit.MemoryLimit(limit), None
    except SystemExit as e:
        return None, str(e)


def test_memory_limit_charges_page_cache(tmp_path):
    """scale.py --memory-limit: a child inside a memory cgroup writes more through the page
    cache than the limit and still completes (the cache is reclaimed)."""
    limit, refusal = _memory_limit(192 * 2**20)
    if limit is None:
        pytest.skip(f"no writable memory cgroup on this machine: {refusal}")
    import memlimit  # on the path once _memory_limit ran
    child = ("import os,sys\nwith open(sys.argv[1], 'wb') as f:\n    for _ in range(400): f.write(os.urandom(1 << 20))\n"
             "x = bytearray(64 << 20)\n")
    big = _on_disk(tmp_path) / "big"  # tmpfs pages are memory: they could not be reclaimed
    try:
        with limit:
            done = subprocess.run([sys.executable, "-c", child, str(big)], capture_output=True, text=True,
                                  timeout=300, preexec_fn=lambda: memlimit.join(str(limit.path)))
            report = limit.report()
        assert done.returncode == 0, done.stderr[-2000:]
        assert 0 < report["peak charged_gb (own memory + page cache)"] <= 192 / 1024 + 1e-9
        assert big.stat().st_size == 400 << 20  # 400 MB written through a 192 MB limit
    finally:
        big.unlink(missing_ok=True)


def test_memory_limit_refusal_says_why():
    """Without a writable cgroup hierarchy, scale.py --memory-limit refuses and says why."""
    limit, refusal = _memory_limit(192 * 2**20)
    if limit is not None:
        with limit:
            pass
        pytest.skip("this machine has a writable memory cgroup: the refusal cannot happen here")
    assert "needs a writable memory cgroup" in refusal


def _on_disk(folder: Path) -> Path:
    """`folder`, or the benchmark cache folder when `folder` is on tmpfs."""
    mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    here = str(folder.resolve())
    fs = max((m for m in mounts if here == m[1] or here.startswith(m[1].rstrip("/") + "/")), key=lambda m: len(m[1]))[2]
    if fs != "tmpfs":
        return folder
    other = Path.home() / ".cache" / "hybridstore-bench"
    other.mkdir(parents=True, exist_ok=True)
    return other


def test_query_path_benchmark_smoke(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRIDSTORE_BENCH_CACHE", str(tmp_path / "cache"))
    sys.path.insert(0, str(BENCH))
    import query_path

    monkeypatch.setattr(query_path, "CACHE", tmp_path / "cache")
    src = str(Path(__file__).resolve().parents[2] / "src")
    result = query_path.main(docs=30, queries=5, rounds=1, against=src, out=tmp_path / "q.json")
    assert set(result["p50_ms (median over rounds)"]) == {
        f"{path} {mode} k={k}" for path in ("core", "LangChain", "LlamaIndex") for mode, k in query_path.CASES}
    assert all(v > 0 for v in result["p50_ms against"].values())
    assert json.loads((tmp_path / "q.json").read_text()) == result


def test_options_cost_benchmark_smoke(tmp_path, monkeypatch):
    """A few queries on a few abstracts: plain, explain=True and boost= each timed at both k, the
    ratios to plain computed, the machine recorded (the comparison with another commit is left
    to the full run: it checks out a worktree)."""
    monkeypatch.setenv("HYBRIDSTORE_BENCH_CACHE", str(tmp_path / "cache"))
    sys.path.insert(0, str(BENCH))
    import query_path
    from options_cost import main

    monkeypatch.setattr(query_path, "CACHE", tmp_path / "cache")
    result = main(docs=20, queries=3, rounds=1, rev=None, out=tmp_path / "options_cost.json")
    assert result["machine"]["model"] and result["machine"]["cpus"]
    for k in (10, 100):
        row = result[f"k={k}"]
        assert all(row[o]["p95_ms"] >= row[o]["p50_ms"] > 0 for o in ("plain", "explain", "boost"))
        assert row["explain / plain"]["p50_ms"] == row["explain"]["p50_ms"] / row["plain"]["p50_ms"]
        assert row["boost / plain"]["p50_ms"] > 0
    assert json.loads((tmp_path / "options_cost.json").read_text()) == json.loads(json.dumps(result))


@pytest.mark.parametrize("engine", ["edge", "local"])
def test_snapshot_cost_benchmark_smoke(tmp_path, engine):
    sys.path.insert(0, str(BENCH))
    from snapshot_cost import main

    result = main(points=300, engine=engine, batch=64, out=tmp_path / "snapshot_cost.json", work=tmp_path)
    assert result["points"] == 300 and result["file_bytes"] > 300 * 384 * 4  # every dense vector in the file
    assert result["snapshot_s"] > 0 and result["restore_s"] > 0 and result["machine"]["cpus"]
    assert json.loads((tmp_path / "snapshot_cost.json").read_text()) == result
    assert list(tmp_path.iterdir()) == [tmp_path / "snapshot_cost.json"]  # the folders and the file removed


def test_pages_benchmark_smoke(tmp_path):
    sys.path.insert(0, str(BENCH))
    from pages import main

    result = main(20, queries=3, full_queries=2, out=tmp_path / "pages.json")
    assert result["pages"] == 20 and result["ingest_pages_per_s"] > 0 and result["disk_bytes_per_page"] > 0
    for rnd in ("cold (pages evicted)", "warm"):
        timed = result["search"][rnd]
        assert timed["pooled prefetch + MaxSim"]["queries"] == 3 and timed["MaxSim over every page"]["queries"] == 2
    assert result["search"]["MaxSim over every page: query's page in the top 10"] == 1.0  # 20 pages: all in it
    assert json.loads((tmp_path / "pages.json").read_text()) == result


def test_scale_ticker_records_a_stall_and_what_held_it():
    """A C call that holds the GIL (a long list.sort) stops the ticking thread: the stall is
    kept, with the thread's waits for the GIL (voluntary switches) counted."""
    sys.path.insert(0, str(BENCH))
    from scale import Ticker

    values = [((i * 7919) % 1000003) / 3 for i in range(5_000_000)]
    ticker = Ticker()
    time.sleep(0.05)
    a = time.perf_counter()
    values.sort()  # one C call: the GIL is held throughout
    b = time.perf_counter()
    time.sleep(0.05)
    ticker.running = False
    ticker.thread.join()
    held = [s for s in ticker.stalls(a, b) if s["gap_s"] >= 0.8 * (b - a)]
    assert b - a > 0.1 and len(held) == 1, (b - a, ticker.stalls(a, b))
    assert held[0]["waits of this thread (voluntary switches)"] >= 1 and 0 <= held[0]["ended at"] <= b - a + 0.05


def test_explain_off_benchmark_smoke(tmp_path, monkeypatch):
    """A few queries on a few abstracts, this commit checked out as both older commits (so the
    smoke needs no history): each tree timed in its own process, ratios to the first."""
    monkeypatch.setenv("HYBRIDSTORE_BENCH_CACHE", str(tmp_path / "cache"))
    sys.path.insert(0, str(BENCH))
    import query_path
    from explain_off import main, rev_parse

    monkeypatch.setattr(query_path, "CACHE", tmp_path / "cache")
    head = rev_parse("HEAD")
    result = main(docs=20, queries=3, rounds=1, out=tmp_path / "explain_off.json",
                  labels={"before explain": head, "explain added": head})
    assert result["machine"]["cpus"] and result["commits"]["this code"].startswith(head)
    assert set(result["summary"]) == {"before explain", "explain added", "this code", "this code again"}
    for label, row in result["summary"].items():
        assert len(result["runs"][label]) == 1 and row["k=10 p50_ms"]["ms"] > 0
    this = result["summary"]["this code"]["k=10 p50_ms"]
    assert this["/ before explain"] == this["ms"] / result["summary"]["before explain"]["k=10 p50_ms"]["ms"]
    assert json.loads((tmp_path / "explain_off.json").read_text()) == json.loads(json.dumps(result))


def test_pdf_pages_benchmark_smoke(tmp_path):
    sys.path.insert(0, str(BENCH))
    from pdf_pages import main

    result = main(rev="HEAD", pages=(4,), rounds=1, out=tmp_path / "pdf_pages.json")
    size = result["sizes"]["4"]
    for name in ("HEAD", "this code"):
        (run,) = size["runs"][name]
        assert run["peak_rss_mb"] > 0 and run["seconds"] > 0 and " records from 1 files" in run["said"]
    assert size["ratio (this code / rev)"]["peak_rss_mb"] > 0 and result["machine"]["cpus"]
    assert json.loads((tmp_path / "pdf_pages.json").read_text()) == result
