"""The same benchmark on two versions of the code, interleaved in one run: a change that should
not move speed (a restructuring) is checked against the commit before it.

    python benchmarks/side_by_side.py REV --rounds 2 -- engines.py --one edge 100000

Each round runs the benchmark script of REV (checked out in a temporary worktree, importing its
own `src`) and then the working tree's, each in its own process; the script's last JSON line is
its result. Prints every run and, per numeric field, the median of each side and their ratio.
Writes benchmarks/results/side_by_side-<script>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@contextmanager
def checkout(rev: str, name: str = "") -> Iterator[Path]:
    """REV in a temporary git worktree beside the project (so ../shared is found), removed after;
    `name` tells apart several held at once."""
    tree = ROOT.parent / f".side-by-side-{os.getpid()}{'-' + name if name else ''}"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True, capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)


def run(tree: Path, script: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    out = subprocess.run([sys.executable, str(tree / "benchmarks" / script[0]), *script[1:]],
                         cwd=tree / "benchmarks", env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{tree}: {' '.join(script)} failed:\n{out.stderr[-3000:]}")
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])


def _flat(result: dict, prefix: str = "") -> dict:
    """Nested results ({"modes": {"hybrid": {"p50_ms": ...}}}) as dotted keys."""
    out = {}
    for k, v in result.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def main() -> None:
    p = argparse.ArgumentParser(usage="side_by_side.py REV [--rounds N] -- SCRIPT [ARGS...]")
    p.add_argument("rev", help="the version to compare with (a commit)")
    p.add_argument("--rounds", type=int, default=2)
    cut = sys.argv.index("--") if "--" in sys.argv else len(sys.argv)
    args, script = p.parse_args(sys.argv[1:cut]), sys.argv[cut + 1:]
    if not script:
        p.error("name the benchmark script after --")
    with checkout(args.rev) as before:
        runs: dict[str, list[dict]] = {"before": [], "after": []}
        for _ in range(args.rounds):
            for side, tree in (("before", before), ("after", ROOT)):
                runs[side].append(run(tree, script))
                print(side, json.dumps(runs[side][-1]), flush=True)
    flat = {side: [_flat(r) for r in rs] for side, rs in runs.items()}
    fields = [k for k, v in flat["after"][0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    summary = {k: {side: statistics.median(r[k] for r in flat[side] if k in r) for side in flat}
               for k in fields}
    for k, v in summary.items():
        v["after / before"] = v["after"] / v["before"] if v["before"] else None
        print(f"{k:<44}{v['before']:>12.4g}{v['after']:>12.4g}{v['after / before'] or 0:>8.3f}")
    out = HERE / "results" / f"side_by_side-{Path(script[0]).stem}.json"
    out.write_text(json.dumps({"rev": args.rev, "script": script, "runs": runs, "summary": summary},
                              indent=2) + "\n")


if __name__ == "__main__":
    main()
