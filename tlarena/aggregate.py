"""Aggregation: model selection per trial seed, mean ± 95 % CI over seeds, average rank over pairs.

A cell is everything in a run's spec but the trial seed: runs that differ in budget, shots, weights,
evaluation protocol, data or hyperparameters are never pooled. A selection rule
(``tlarena.selection``) first picks one hyperparameter configuration per (cell without its
hyperparameters, trial seed); every aggregated number carries the name of its rule.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
# the Student t quantile: scipy.stats.t.ppf(q, df) is stdtrit(df, q), and scipy.stats alone
# takes seconds to import
from scipy.special import stdtrit

from tlarena import latex
from tlarena.selection import DEFAULT, RULES, SOURCE_KEPT, UNLABELED_TARGET_RULES, resolve

# Every spec field but the seed, in the order a reader scans them.
SPEC = ["setting", "backbone", "method", "pair", "weights", "evaluation", "steps", "source_steps",
        "batch_size", "eval_points", "shots", "data", "protocol", "hparams", "hparams_seed"]
CONFIG = ["hparams", "hparams_seed"]
SELECTED = [column for column in SPEC if column not in CONFIG]
COMPARED = SELECTED + ["seed"]     # the runs a rule chooses one configuration from
SCORES = {"source-val": "source_val_top1", "target-val": "target_val_top1", "im": "im", "snd": "snd",
          "oracle": "top1"}
# Shown only where they differ between rows: a table with one budget does not repeat it.
VARYING = ["weights", "evaluation", "steps", "source_steps", "batch_size", "eval_points", "shots",
           "protocol", "hparams"]
_MEANS = {"mean_class_acc": ("mean_class_acc", "mean"), "auc": ("auc", "mean"),
          "steps_to_95": ("steps_to_95", "mean"), "train_seconds": ("train_seconds", "mean"),
          "train_flops": ("train_flops", "mean"), "peak_memory_bytes": ("peak_memory_bytes", "max"),
          "trainable_params": ("trainable_params", "first")}


def cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Per cell (every spec field but the seed): runs, mean, std and 95 % CI half-width of top-1."""
    return over_seeds(_ok(frame), SPEC)


def select(frame: pd.DataFrame, rule: str = DEFAULT) -> tuple[pd.DataFrame, int]:
    """The run each (cell without hyperparameters, trial seed) selects under ``rule``, with the
    rule's name and the number of configurations it chose from; and how many such groups the rule
    could not score (e.g. ``target-val`` in ``uda``, which has no target labels)."""
    if rule != DEFAULT and rule not in RULES:
        raise ValueError(f"unknown selection rule {rule!r}; choose from {DEFAULT}, {', '.join(RULES)}")
    ok = _ok(frame).copy()
    if ok.empty:
        return ok.assign(selection=pd.Series(dtype=str), configs=pd.Series(dtype=int)), 0
    ok["selection"] = [resolve(rule, setting != "task") for setting in ok["setting"]]
    ok["score"] = np.nan
    for name, column in SCORES.items():
        chosen = ok["selection"] == name
        if chosen.any() and column in ok:
            ok.loc[chosen, "score"] = pd.to_numeric(ok.loc[chosen, column]).astype(float)
    ok.loc[_lost_the_source_task(ok), "score"] = np.nan
    ok["configs"] = ok.groupby(COMPARED, dropna=False)["key"].transform("count")
    scored = ok[ok["score"].notna()]
    groups = ok.groupby(COMPARED, dropna=False).ngroups
    best = (scored.sort_values(["score", "hparams_seed"], ascending=[False, True])
            .groupby(COMPARED, dropna=False).head(1))
    return best.drop(columns="score"), groups - len(best)


def _lost_the_source_task(runs: pd.DataFrame) -> pd.Series:
    """The runs an unlabeled-target rule may not pick: their source validation accuracy is under
    ``SOURCE_KEPT`` of the best among the configurations compared (``tlarena.selection``)."""
    if "source_val_top1" not in runs:
        return pd.Series(False, index=runs.index)
    source = pd.to_numeric(runs["source_val_top1"]).astype(float)
    best = source.groupby([runs[column] for column in COMPARED], dropna=False).transform("max")
    return runs["selection"].isin(UNLABELED_TARGET_RULES) & (source < SOURCE_KEPT * best)


def selected_cells(frame: pd.DataFrame, rule: str = DEFAULT) -> pd.DataFrame:
    """Per cell without hyperparameters: the selected runs' mean, std and CI over trial seeds."""
    chosen, _ = select(frame, rule)
    return over_seeds(chosen, SELECTED + ["selection"], configs=("configs", "max"))


def _ok(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["status"] == "ok"] if "status" in frame else frame


def over_seeds(runs: pd.DataFrame, keys: list[str], **extra) -> pd.DataFrame:
    """Per group of ``keys``: runs (seeds), mean, std and 95 % CI half-width of top-1, and the
    mean cost columns present."""
    columns = keys + ["n", "top1_mean", "top1_std", "top1_ci95"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    means = {name: how for name, how in _MEANS.items() if how[0] in runs}
    table = runs.groupby(keys, dropna=False).agg(
        n=("seed", "count"), top1_mean=("top1", "mean"), top1_std=("top1", "std"),
        **means, **extra).reset_index()
    table.insert(table.columns.get_loc("top1_std"), "top1_ci95",
                 _ci95(table["top1_std"].to_numpy(float), table["n"].to_numpy(float)))
    return table


def _ci95(std: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Half-width of the Student-t 95 % interval of a mean over n seeds (NaN for one seed);
    vectorized, since one call per cell was most of a 10,000-run board's time."""
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stdtrit(n - 1, 0.975) * std / np.sqrt(n)
    return np.where((n >= 2) & np.isfinite(std), half, np.nan)


def leaderboard(cell_table: pd.DataFrame) -> pd.DataFrame:
    """Per method and everything else that defines a cell but the pair: mean top-1 over pairs,
    average rank (taken within each pair over the methods that ran there; 1 is best), pairs covered."""
    keys = [c for c in SELECTED + ["selection"] if c in cell_table and c not in ("pair", "data")]
    if cell_table.empty:
        return pd.DataFrame(columns=keys + ["pairs", "avg_top1", "avg_rank"])
    ranked = cell_table.copy()
    # source_steps is None for methods that do not start from the source model: they still compete.
    within = [c for c in keys if c not in ("method", "source_steps")] + ["pair"]
    ranked["rank"] = ranked.groupby(within, dropna=False)["top1_mean"].rank(ascending=False,
                                                                         method="average")
    seconds = {"train_seconds": ("train_seconds", "mean")} if "train_seconds" in ranked else {}
    board = ranked.groupby(keys, dropna=False).agg(
        pairs=("pair", "nunique"), avg_top1=("top1_mean", "mean"), avg_rank=("rank", "mean"),
        **seconds).reset_index()
    order = [c for c in keys if c not in ("method", "source_steps")]
    return board.sort_values(order + ["avg_rank", "avg_top1"],
                             ascending=[True] * len(order) + [True, False]).reset_index(drop=True)


def for_display(table: pd.DataFrame) -> pd.DataFrame:
    """The table without the spec columns that never differ between two rows of one method on one
    pair (setting, backbone): those say nothing a reader needs to tell rows apart. The long data
    references show only when one pair was run on two versions of its data."""
    identity = [c for c in ("setting", "backbone", "method", "pair") if c in table]
    if table.empty or not identity:
        return table
    groups = table.groupby(identity, dropna=False)
    drop = [c for c in VARYING + ["hparams_seed", "data"]
            if c in table and groups[c].nunique(dropna=False).max() <= 1]
    return table.drop(columns=drop)


def export(table: pd.DataFrame, fmt: str) -> str:
    """The table as csv, markdown, latex (booktabs, special characters escaped) or json text."""
    if fmt == "csv":
        return table.to_csv(index=False)
    if fmt == "markdown":
        return table.to_markdown(index=False, floatfmt=".4g")
    if fmt == "latex":
        return latex.tabular(table)
    if fmt == "json":
        return table.to_json(orient="records", indent=1)
    raise ValueError(f"unknown format {fmt!r}")
