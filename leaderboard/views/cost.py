"""Accuracy against cost (FLOPs by default, or wall time) with the Pareto front, per board."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tlarena_leaderboard import charts
from tlarena_leaderboard.views.context import Context, chosen_runs, offer_table

COSTS = {"train_flops": "FLOPs (independent of machine load)", "train_seconds": "wall time"}


def points(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per method: mean top-1 over pairs, its mean costs, and the hardware it ran on."""
    per_pair = runs.groupby(["method", "pair"], as_index=False).agg(
        top1=("top1", "mean"), train_flops=("train_flops", "mean"),
        train_seconds=("train_seconds", "mean"))
    table = per_pair.groupby("method", as_index=False).agg(
        top1=("top1", "mean"), train_flops=("train_flops", "mean"),
        train_seconds=("train_seconds", "mean"))
    extra = runs.groupby("method").agg(
        hardware=("device_name", lambda names: "; ".join(sorted(set(names.dropna().astype(str))))),
        trainable_params=("trainable_params", "max"), peak_memory_mib=("peak_memory_bytes", "max"),
        peak_memory_kind=("peak_memory_kind", "first"))
    extra["peak_memory_mib"] = extra["peak_memory_mib"] / 2**20
    return table.merge(extra.reset_index(), on="method")


def render(context: Context) -> None:
    chosen = chosen_runs(context.frame, context.rule)
    if chosen.empty or "train_flops" not in chosen:
        st.info("No successful runs with recorded costs under these filters.")
        return
    url = context.url
    boards = sorted(chosen["board"].unique())
    board = st.selectbox("Board", boards, key=url.one("board", boards, boards[0]))
    cost = st.radio("Cost", list(COSTS), key=url.one("cost", list(COSTS), "train_flops"),
                    format_func=COSTS.get, horizontal=True)
    table = points(chosen[chosen["board"] == board])
    st.altair_chart(charts.cost_accuracy(table, cost))
    # a name holds commas itself ("CPU: AMD EPYC, AVX512 (1 threads)"): read it from the runs
    hardware = sorted(set(chosen.loc[chosen["board"] == board, "device_name"].dropna().astype(str)))
    st.text("Times compare only on the same hardware. Measured on: " + ("; ".join(hardware) or "unknown"))
    if len(hardware) > 1 and cost == "train_seconds":
        st.warning("These runs come from different hardware: their wall times are not comparable.")
    shown = table[["method", "top1", "train_flops", "train_seconds", "hardware", "trainable_params",
                   "peak_memory_mib", "peak_memory_kind"]]
    st.dataframe(shown, hide_index=True)
    offer_table(shown, "cost")
