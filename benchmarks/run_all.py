"""Wall time of `tlarena run --all` on a fresh cache and an empty results folder, then of the rerun.

The first run builds the embedded datasets, trains the shared source models and runs every cell;
the second finds every run recorded. Target: the first ≤ 10 minutes on a 2-core CPU machine. The
README's figure is `--workers 2` (the default here), as `results/` was made.

    python benchmarks/run_all.py [--workers 2]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tlarena", *args], env=env, capture_output=True,
                          text=True, check=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="tlarena run's --workers (default: 2)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="tlarena-run-all-"))
    env = {**os.environ, "TLARENA_CACHE": str(scratch / "cache"), "COLUMNS": "120"}
    command = ["run", "--all", "--workers", str(args.workers), "--results", str(scratch / "results")]
    first, output = timed(command, env)
    second, _ = timed(command, env)
    records = len(list((scratch / "results").glob("*.json")))
    print(output.split("\n[", 1)[0])   # the grid's header, up to its first run: runs, hardware, threads
    print(f"first  `tlarena run --all --workers {args.workers}`: {first / 60:5.2f} min, {records} records"
          f"   target ≤ 10 min")
    print(f"second `tlarena run --all --workers {args.workers}`: {second:5.1f} s (every run already recorded)")
    print(f"records and cache: {scratch}")


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
