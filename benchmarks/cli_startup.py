"""Wall time of the cheap commands, each in a fresh process, beside `python -c 'import torch'`.

`tlarena --help` and `tlarena show` import neither torch nor timm, so they take a fraction of
torch's import; a `tlarena run --all` that finds every run recorded loads the plugins (which import
torch, timm and datasets) and prints the board. The run is timed on a copy of ``--results``, and only
when a dry run finds nothing left in it: this benchmark never trains.

    python benchmarks/cli_startup.py [--results results] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="records of every run of `tlarena run --all` (copied; never written)")
    parser.add_argument("--seeds", default="0,1,2", help="the seeds of `run --all` the results hold")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command; the median is shown")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="tlarena-cli-startup-"))
    try:
        results = shutil.copytree(args.results, scratch / "results")
        env = {**os.environ, "COLUMNS": "120"}
        cli = ["-m", "tlarena"]
        run_all = [*cli, "run", "--all", "--seeds", args.seeds, "--results", str(results)]
        _, plan = timed([*run_all, "--dry-run"], env)
        left = int(re.search(r"(\d+) left", plan).group(1))
        commands = {"python -c 'import torch'": ["-c", "import torch"],
                    "tlarena --help": [*cli, "--help"],
                    "tlarena show": [*cli, "show", "--results", str(results)]}
        if left == 0:
            commands["tlarena run --all (all recorded)"] = run_all
        else:
            print(f"tlarena run --all: not timed, {left} runs of {args.results} are left to run")
        medians = {}
        for _ in range(args.repeats):   # interleaved: a busy machine slows every command alike
            for label, command in commands.items():
                medians.setdefault(label, []).append(timed(command, env)[0])
        medians = {label: statistics.median(times) for label, times in medians.items()}
        torch_import = medians["python -c 'import torch'"]
        records = len(list(results.glob("*.json")))
        print(f"cold start, median of {args.repeats}, {records} records in {args.results}/")
        for label, seconds in medians.items():
            print(f"{label:<34} {seconds:6.2f} s   ratio to import torch: {seconds / torch_import:.2f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
