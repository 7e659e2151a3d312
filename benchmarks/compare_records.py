"""How far two folders of records of the same grid lie apart: each run's top-1, each cell's mean over
seeds, and each board as `tlarena show` ranks it (its leader, its methods' averages over the pairs,
and Kendall's τ between the two orders). For one grid made on two machines, whose CPU kernels round
differently (training amplifies that), or by two versions of the code.

    python benchmarks/compare_records.py results OTHER_RESULTS

Runs are matched by key (the same spec and seed); a run recorded in one folder only, or failed in
either, is counted and left out. Differences are in points of top-1 %, OTHER minus the first.
"""
from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from tlarena.aggregate import SELECTED, leaderboard, selected_cells
from tlarena.records import read_records, records_frame


def load(folder: Path) -> pd.DataFrame:
    """One row per run of ``folder``, as `tlarena show` reads it; a folder with no record is an error."""
    records, problems = read_records(folder)
    if not records:
        raise SystemExit(f"no records in {folder}")
    for problem in problems:
        print(f"skipped: {problem}")
    return records_frame(records)


def ok_in_both(first: pd.DataFrame, other: pd.DataFrame) -> set[str]:
    """The keys of the runs both folders recorded ok: the only ones compared."""
    return set(first.loc[first["status"] == "ok", "key"]) & set(other.loc[other["status"] == "ok", "key"])


def runs(first: pd.DataFrame, other: pd.DataFrame, ok: set[str]) -> list[str]:
    """Each run both folders hold, ok in both (``ok``): how far its top-1 moved."""
    both = first.merge(other, on="key", suffixes=("", "_other"))
    compared = both[both["key"].isin(ok)]
    moved = 100 * (compared["top1_other"] - compared["top1"])
    worst = compared.loc[moved.abs().idxmax()]
    lines = [f"runs: {len(first)} and {len(other)} recorded, {len(both)} in both, {len(compared)} ok in both; "
             f"made on {_devices(first)} and on {_devices(other)}"]
    if len(both) > len(compared):
        statuses = both.loc[both["status"] != both["status_other"], ["status", "status_other"]]
        lines.append(f"  of the other {len(both) - len(compared)}, {len(statuses)} changed status"
                     + "".join(f"; {n} {a} -> {b}" for (a, b), n in statuses.value_counts().items()))
    lines.append(f"  top-1 identical in {int((moved == 0).sum())}; moved by a median of {moved.abs().median():.1f} "
                 f"points (90 % within {moved.abs().quantile(0.9):.1f}; mean {moved.mean():+.2f}: the shift "
                 f"either way)")
    lines.append(f"  most: {moved[worst.name]:+.1f}, {_cell(worst)} · seed {worst['seed']} "
                 f"({100 * worst['top1']:.1f} -> {100 * worst['top1_other']:.1f})")
    return lines


def cells(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Each cell's mean over its seeds, from the two folders' selected cells (as `tlarena show`)."""
    both = a.merge(b, on=SELECTED + ["selection"], suffixes=("", "_other"))
    moved = 100 * (both["top1_mean_other"] - both["top1_mean"])
    worst = both.loc[moved.abs().idxmax()]
    return [f"cells: {len(both)}; mean moved by a median of {moved.abs().median():.1f} points, "
            f"at most {moved[worst.name]:+.1f} ({_cell(worst)}); the seeds of a cell differ by a median "
            f"standard deviation of {100 * both['top1_std'].median():.1f} (first folder)"]


def boards(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Per board (setting, backbone, budget, ...) of the two folders' leaderboards: its leader in
    each, how far each method's average over the pairs moved, and Kendall's τ between the averages."""
    # as `tlarena show`: methods that start from no source model (source_steps None) share the board
    board_keys = [c for c in a.columns
                  if c not in ("method", "source_steps", "pairs", "avg_top1", "avg_rank", "train_seconds")]
    lines = ["boards (leader by average rank; each method's average top-1 over the pairs):"]
    for board, rows in a.groupby(board_keys, dropna=False, sort=False):
        other_rows = b.merge(rows[board_keys].drop_duplicates(), on=board_keys)
        both = rows.merge(other_rows, on=board_keys + ["method", "source_steps"], suffixes=("", "_other"))
        moved = 100 * (both["avg_top1_other"] - both["avg_top1"])
        leader, other_leader = rows.iloc[0]["method"], other_rows.iloc[0]["method"]
        tau = kendalltau(both["avg_top1"], both["avg_top1_other"]).statistic if len(both) > 1 else np.nan
        lines.append(f"  {board[0]}: {len(both)} method{'s' * (len(both) != 1)}; leader {leader}"
                     + ("" if leader == other_leader else f" -> {other_leader}")
                     + f"; averages moved by at most {moved.abs().max():.1f}"
                     + ("" if np.isnan(tau) else f"; Kendall's tau {tau:.2f}"))
    return lines


def _devices(frame: pd.DataFrame) -> str:
    return ", ".join(sorted(frame["device_name"].dropna().unique())) or "unknown hardware"


def _cell(row) -> str:
    return f"{row['method']} · {row['pair']} · {row['setting']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path, help="a folder of records (e.g. results)")
    parser.add_argument("other", type=Path, help="a folder of records of the same grid")
    args = parser.parse_args()
    first, other = load(args.first), load(args.other)
    if not set(first["key"]) & set(other["key"]):
        raise SystemExit(f"{args.first} and {args.other} share no run: not records of one grid")
    ok = ok_in_both(first, other)
    if not ok:
        raise SystemExit(f"no run is ok in both {args.first} and {args.other}: no top-1 to compare")
    a, b = (selected_cells(frame[frame["key"].isin(ok)]) for frame in (first, other))
    width = shutil.get_terminal_size().columns   # 80 in a pipe; lines wrap at spaces, no name is cut
    for line in runs(first, other, ok) + cells(a, b) + boards(leaderboard(a), leaderboard(b)):
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        print(textwrap.fill(line, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False))


if __name__ == "__main__":
    from _script import run   # beside this script, first on its sys.path

    run(main)
