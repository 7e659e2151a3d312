"""Throughput of `tlarena run` with N worker processes against one, side by side on one grid.

Both start from the same warm cache (datasets decoded and source models trained by an untimed
first pass), so the ratio is the runs' own throughput. Target: ≥ 1.5 with 2 workers on 2 cores.

    python benchmarks/workers.py                 # the embedded suite's few-shot and supervised cells, seed 0
    python benchmarks/workers.py --workers 4 --seeds 0,1
    python benchmarks/workers.py --methods fine-tune,scratch,linear-probe --steps 100 --source-steps 200
                                                  # a shorter grid of the same suite
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tlarena", *args], env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--settings", default="few-shot,supervised")
    parser.add_argument("--methods", help="comma-separated (default: every method)")
    parser.add_argument("--steps", help="the methods' steps (default: the default budget's)")
    parser.add_argument("--source-steps", help="the source models' steps (default: the default budget's)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="tlarena-workers-"))
    env = {**os.environ, "TLARENA_CACHE": str(scratch / "cache"), "COLUMNS": "120"}
    grid = ["run", "--all", "--seeds", args.seeds, "--settings", args.settings,
            *(["--methods", args.methods] if args.methods else []),
            *(["--steps", args.steps] if args.steps else []),
            *(["--source-steps", args.source_steps] if args.source_steps else [])]
    timed([*grid, "--results", str(scratch / "warm-up")], env)
    before = f"{os.getloadavg()[0]:.2f}"   # other work on the machine takes cores from both
    one = timed([*grid, "--results", str(scratch / "one")], env)
    many = timed([*grid, "--results", str(scratch / "many"), "--workers", str(args.workers)], env)
    runs = len(list((scratch / "one").glob("*.json")))
    print(f"{runs} runs ({args.settings}, seeds {args.seeds}) on {os.cpu_count()} CPU cores, warm cache; "
          f"load average before: {before}, after: {os.getloadavg()[0]:.2f}")
    print(f"1 worker : {one:6.1f} s  ({runs / one:.2f} runs/s)")
    print(f"{args.workers} workers: {many:6.1f} s  ({runs / many:.2f} runs/s)")
    print(f"throughput ratio ({args.workers} workers / 1): {one / many:.2f}   target ≥ 1.5 with 2 workers on 2 cores")


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
