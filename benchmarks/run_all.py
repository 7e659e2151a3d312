"""Wall time of `tlarena run --all` on a fresh cache and an empty results folder, then of the rerun.

The first run builds the embedded datasets, trains the shared source models and runs every cell;
the second finds every run recorded. Target: the first ≤ 10 minutes on a 2-core CPU machine.

    python benchmarks/run_all.py
"""
from __future__ import annotations

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
    scratch = Path(tempfile.mkdtemp(prefix="tlarena-run-all-"))
    env = {**os.environ, "TLARENA_CACHE": str(scratch / "cache"), "COLUMNS": "120"}
    args = ["run", "--all", "--results", str(scratch / "results")]
    first, output = timed(args, env)
    second, _ = timed(args, env)
    records = len(list((scratch / "results").glob("*.json")))
    print(output.splitlines()[0])
    print(f"first  `tlarena run --all`: {first / 60:5.2f} min, {records} records   target ≤ 10 min")
    print(f"second `tlarena run --all`: {second:5.1f} s (every run already recorded)")


if __name__ == "__main__":
    main()
