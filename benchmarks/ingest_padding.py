"""Ingest docs/s with padding-aware batches vs naive batches of the same size, one run.

Runs `hybridstore bench` on SciFact (first N docs; dense + BM25 into in-memory indexes,
interleaved naive/aware/naive/aware) and writes benchmarks/results/ingest-padding.json.
Usage: python benchmarks/ingest_padding.py [N]
"""

import sys
from pathlib import Path

from hybridstore.cli import main

ROOT = Path(__file__).resolve().parents[1]
limit = sys.argv[1] if len(sys.argv) > 1 else "1000"
out = ROOT / "benchmarks" / "results" / "ingest-padding.json"
out.parent.mkdir(parents=True, exist_ok=True)
sys.exit(main(["bench", str(ROOT.parent / "shared" / "datasets" / "scifact"), "--limit", limit,
               "--json-out", str(out)]))
