"""Two methods paired by pair and trial seed: wins, ties, losses and the mean difference."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from tlarena import overview, paired
from tlarena_leaderboard.views.context import Context, chosen_runs, offer_table


def table(chosen: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Per pair and over all pairs: matched runs, a's wins / ties / losses, mean of a − b and CI."""
    both = paired.matched(chosen, a, b, overview.BOARD + ["board"])
    rows = [(pair, paired.compare(group["difference"])) for pair, group in both.groupby("pair")]
    rows.append(("all pairs", paired.compare(both["difference"])))
    # in points of top-1 %, as the overview's cells and its "vs leader" column
    return pd.DataFrame([{"pair": pair, "runs": r.runs, "wins": r.wins, "ties": r.ties,
                          "losses": r.losses, "mean difference (points)": _points(r.mean_difference),
                          "95 % CI low": _points(r.low), "95 % CI high": _points(r.high),
                          "verdict": _verdict(r, a, b)} for pair, r in rows])


def _points(fraction: float) -> float:
    return round(100 * fraction, 2)


def _verdict(result: paired.Paired, a: str, b: str) -> str:
    if not result.tested:
        return "too few matched runs to test"
    if result.tied:
        return "tied"
    return f"{a} better" if result.mean_difference > 0 else f"{b} better"


def render(context: Context) -> None:
    chosen = chosen_runs(context.frame, context.rule)
    methods = sorted(chosen["method"].unique())
    if len(methods) < 2:
        st.info("Comparing needs two methods with successful runs under these filters.")
        return
    url = context.url
    left, right = st.columns(2)
    a = left.selectbox("Method A", methods, key=url.one("a", methods, methods[0]))
    b = right.selectbox("Method B", methods, key=url.one("b", methods, methods[1]))
    if a == b:
        st.info("Choose two different methods.")
        return
    result = table(chosen, a, b)
    st.caption(f"A − B top-1 % in points, paired by pair, trial seed and board (setting, budget, …); {paired.TEST}; "
               f"a tie per run is a difference under {100 * paired.TIE_TOLERANCE:g} point.")
    st.dataframe(result.replace({np.nan: None}), hide_index=True)
    offer_table(result, f"{a}-vs-{b}")
