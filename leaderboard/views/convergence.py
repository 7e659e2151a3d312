"""Learning curves per pair (mean and the band across seeds), and how fast each method gets there."""
from __future__ import annotations

import streamlit as st

from tlarena_leaderboard import charts
from tlarena_leaderboard.views.context import Context, chosen_runs, offer_table

X = {"step": "steps", "samples": "samples", "flops": "FLOPs"}
SPEED = {"steps_to_95": "mean", "samples_to_95": "mean", "flops_to_95": "mean", "auc": "mean"}


def render(context: Context) -> None:
    chosen = chosen_runs(context.frame, context.rule)
    pairs = sorted(chosen["pair"].unique())
    if not pairs:
        st.info("No successful runs to draw under these filters and this selection rule.")
        return
    url = context.url
    pair = st.selectbox("Pair", pairs, key=url.one("curve_pair", pairs, pairs[0]))
    x = st.radio("Along", list(X), key=url.one("along", list(X), "step"), horizontal=True,
                 format_func=X.get)
    runs = chosen[chosen["pair"] == pair]
    several = runs["board"].nunique() > 1
    runs = runs.assign(series=runs["method"] + (" · " + runs["board"] if several else ""))
    curves = context.curves.merge(runs[["key", "series", "seed"]], on="key")
    st.altair_chart(charts.learning_curves(charts.curve_bands(curves, x), x))
    st.caption("Mean top-1 over seeds; the band spans the lowest to the highest seed. *_to_95: "
               "to reach 95 % of the run's final accuracy; auc: mean accuracy over training.")
    speed = runs.groupby("series").agg(seeds=("seed", "count"),
                                       **{k: (k, how) for k, how in SPEED.items() if k in runs})
    speed = speed.reset_index().rename(columns={"series": "method"})
    st.dataframe(speed, hide_index=True)
    offer_table(speed, "convergence")
