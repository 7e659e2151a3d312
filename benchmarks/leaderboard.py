"""The leaderboard at scale: reading 1k / 10k / 100k synthetic run records, and rendering the
overview of 10,000 records with their loading cached.

    python benchmarks/leaderboard.py [--sizes 1000,10000,100000] [--render 10000]

Prints seconds and µs per record for each size and the ratios between sizes (linear loading gives
a ratio equal to the size ratio), then the overview's render time through Streamlit's AppTest:
every cache warm, and with the loading cached but the boards ranked again (a new selection rule).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from tlarena_leaderboard import loading, synthetic

APP = Path(__file__).resolve().parents[1] / "leaderboard" / "app.py"
SETTINGS = ("few-shot", "supervised", "uda", "task")
SEEDS = 5


def write_records(folder: Path, count: int) -> None:
    """``count`` records: methods × pairs × 4 settings × 5 seeds (plain writes: no fsync needed)."""
    methods = 10 if count <= 10_000 else 20
    pairs = max(1, count // (methods * len(SETTINGS) * SEEDS))
    for record in synthetic.grid(methods, pairs, SEEDS, SETTINGS):
        (folder / f"{record.key}.json").write_text(json.dumps(record.to_dict()))


def time_loading(sizes: list[int]) -> None:
    measured = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            write_records(Path(folder), size)
            started = time.perf_counter()
            results = loading.read(Path(folder))
            seconds = time.perf_counter() - started
        measured[size] = seconds
        print(f"load {len(results.frame):>7,} records: {seconds:7.2f} s  "
              f"({seconds / len(results.frame) * 1e6:6.0f} µs per record)")
    for small, large in zip(sizes, sizes[1:]):
        print(f"ratio {large:,} / {small:,} records: {measured[large] / measured[small]:.2f} × the "
              f"time for {large / small:.0f} × the records (linear: equal)")


def time_overview(size: int) -> None:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as folder:
        write_records(Path(folder), size)
        os.environ["TLARENA_RESULTS"] = folder
        app = AppTest.from_file(str(APP), default_timeout=600)
        started = time.perf_counter()
        app.run()
        first = time.perf_counter() - started
        started = time.perf_counter()
        app.run()
        cached = time.perf_counter() - started
        app.sidebar.selectbox(key="selection").set_value("oracle")
        started = time.perf_counter()
        app.run()
        ranked = time.perf_counter() - started
        assert not app.exception, app.exception
        boards = sum("selection oracle" in text.value for text in app.text)
    print(f"overview of {size:,} records ({boards} boards): first {first:.2f} s (reading, plugins), "
          f"every cache warm {cached:.2f} s, loading cached and boards ranked again {ranked:.2f} s "
          f"(target ≤ 2 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--render", type=int, default=10_000, help="records in the overview timed")
    args = parser.parse_args()
    time_loading([int(size) for size in args.sizes.split(",")])
    time_overview(args.render)


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
