"""Where the plain search's time went since explanations landed. The plain search
(`explain=False`, as in options_cost.py: hybrid DBSF, no rerank, dense query vectors given) of
the commit before explain.py was added, of the commit that added it, and of this code, twice
(the A/A pair: how far two processes of the same code differ), each in its own process, in
rotating order for `--rounds` rounds; medians per commit and ratios to the commit before.

Usage: python benchmarks/explain_off.py [--docs 1000] [--queries 150] [--rounds 5]
       [--out results/explain_off.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from contextlib import ExitStack
from pathlib import Path

from options_cost import KS, before_explain, plain_in
from procs import cpu
from query_path import corpus
from side_by_side import ROOT, checkout

HERE = Path(__file__).resolve().parent


def commits() -> dict[str, str]:
    """The commit before explain.py was added and the commit that added it."""
    added = before_explain().removesuffix("^")
    return {"before explain": rev_parse(f"{added}^"), "explain added": rev_parse(added)}


def rev_parse(rev: str) -> str:
    return subprocess.run(["git", "rev-parse", rev], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def main(docs: int, queries: int, rounds: int, out: Path | None, labels: dict[str, str] | None = None) -> dict:
    """`labels`: the two older commits (default: `commits()`)."""
    corpus(docs, queries)  # embed and cache the documents once, before any timing
    labels = labels or commits()
    head = rev_parse("HEAD")
    if subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, check=True, capture_output=True,
                      text=True).stdout.strip():
        head += " with uncommitted changes in src"  # "this code" is the working tree's
    runs: dict[str, list[dict]] = {k: [] for k in (*labels, "this code", "this code again")}
    with ExitStack() as held:
        made = {label: held.enter_context(checkout(rev, label.replace(" ", "-"))) for label, rev in labels.items()}
        srcs = {**{k: t / "src" for k, t in made.items()}, "this code": ROOT / "src", "this code again": ROOT / "src"}
        order = list(srcs)
        for r in range(rounds):
            for label in order[r % len(order):] + order[:r % len(order)]:  # rotate who goes first
                runs[label].append(plain_in(srcs[label], docs, queries))
    summary: dict[str, dict] = {}
    for label, timed in runs.items():
        row = {}
        for k in KS:
            for p in ("p50_ms", "p95_ms"):
                mine = statistics.median(x[f"k={k}"]["plain"][p] for x in timed)
                base = statistics.median(x[f"k={k}"]["plain"][p] for x in runs["before explain"])
                row[f"k={k} {p}"] = {"ms": mine, "/ before explain": mine / base}
        summary[label] = row
    result = {"machine": cpu(), "docs": docs, "queries": queries, "rounds": rounds,
              "commits": {**labels, "this code": head}, "summary": summary, "runs": runs}
    for label, row in summary.items():
        print(f"{label:<16}" + "".join(f"  {key} {v['ms']:.3f} ms ({v['/ before explain']:.3f}x)"
                                       for key, v in row.items() if "p50" in key))
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, default=1000)
    p.add_argument("--queries", type=int, default=150)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", type=Path, default=HERE / "results" / "explain_off.json")
    a = p.parse_args()
    main(a.docs, a.queries, a.rounds, a.out)
