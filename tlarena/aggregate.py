"""Aggregation over seeds and pairs: mean ± 95 % CI per cell, average accuracy and rank per method."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

CELL = ["method", "pair", "backbone", "setting"]


def cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (method, pair, backbone, setting): runs, mean, std and 95 % CI half-width of top-1."""
    ok = frame[frame["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame(columns=CELL + ["seeds", "top1_mean", "top1_std", "top1_ci95"])
    grouped = ok.groupby(CELL)
    table = grouped.agg(seeds=("seed", "nunique"), top1_mean=("top1", "mean"),
                        top1_std=("top1", "std"), mean_class_acc=("mean_class_acc", "mean"),
                        auc=("auc", "mean"), steps_to_95=("steps_to_95", "mean"),
                        train_seconds=("train_seconds", "mean"), train_flops=("train_flops", "mean"),
                        peak_memory_bytes=("peak_memory_bytes", "max"),
                        trainable_params=("trainable_params", "first")).reset_index()
    table["top1_ci95"] = [_ci95(std, n) for std, n in zip(table["top1_std"], table["seeds"])]
    return table


def _ci95(std: float, n: int) -> float:
    """Half-width of the Student-t 95 % interval of a mean over n seeds (NaN for one seed)."""
    if n < 2 or not np.isfinite(std):
        return float("nan")
    return float(stats.t.ppf(0.975, n - 1) * std / np.sqrt(n))


def leaderboard(cell_table: pd.DataFrame) -> pd.DataFrame:
    """Per (setting, backbone, method): mean top-1 over pairs, average rank, pairs covered.

    Ranks are taken within each (pair, setting, backbone) over the methods that ran there; 1 is best.
    """
    if cell_table.empty:
        return pd.DataFrame(columns=["setting", "backbone", "method", "pairs", "avg_top1", "avg_rank"])
    ranked = cell_table.copy()
    ranked["rank"] = ranked.groupby(["pair", "setting", "backbone"])["top1_mean"].rank(
        ascending=False, method="average")
    board = ranked.groupby(["setting", "backbone", "method"]).agg(
        pairs=("pair", "nunique"), avg_top1=("top1_mean", "mean"), avg_rank=("rank", "mean"),
        train_seconds=("train_seconds", "mean")).reset_index()
    return board.sort_values(["setting", "backbone", "avg_rank", "avg_top1"],
                             ascending=[True, True, True, False]).reset_index(drop=True)


def export(table: pd.DataFrame, fmt: str) -> str:
    """The table as csv, markdown, latex or json text."""
    if fmt == "csv":
        return table.to_csv(index=False)
    if fmt == "markdown":
        return table.to_markdown(index=False, floatfmt=".4g")
    if fmt == "latex":
        return table.to_latex(index=False, float_format="%.4g")
    if fmt == "json":
        return table.to_json(orient="records", indent=1)
    raise ValueError(f"unknown format {fmt!r}")
