"""One run: its spec, hyperparameters, environment, curve and status; failed runs with their reason."""
from __future__ import annotations

from dataclasses import asdict

import altair as alt
import pandas as pd
import streamlit as st

from tlarena_leaderboard.loading import read_record
from tlarena_leaderboard.views.context import Context

TROUBLE = ("failed", "diverged", "timed-out")


def render(context: Context) -> None:
    frame = context.frame.sort_values(["status", "method", "pair", "setting", "seed"])
    failed = frame[frame["status"].isin(TROUBLE)]
    if len(failed):
        st.text(f"{len(failed)} runs failed or diverged:")
        st.dataframe(failed[["key", "method", "pair", "setting", "seed", "status", "reason"]],
                     hide_index=True)
    labels = {key: f"{m} · {p} · {s} · seed {seed} · {status}" for key, m, p, s, seed, status in
              zip(frame["key"], frame["method"], frame["pair"], frame["setting"], frame["seed"],
                  frame["status"])}
    keys = list(labels)
    first = failed["key"].iloc[0] if len(failed) else keys[0]
    key = st.selectbox("Run", keys, key=context.url.one("run", keys, first), format_func=labels.get)
    record = read_record(context.results, key)
    if record is None:
        st.warning("This run's record can no longer be read.")
        return
    st.text(f"status: {record.status}" + (f" — {record.reason}" if record.reason else ""))
    if record.traceback:
        st.code(record.traceback, language=None)
    spec = record.spec.to_dict()
    left, right = st.columns(2)
    left.text("spec")
    left.json({k: v for k, v in spec.items() if k != "hparams"})
    right.text("hyperparameters")
    right.json(spec["hparams"])
    if record.environment is not None:
        right.text("environment")
        right.json(asdict(record.environment))
    if record.curve:
        curve = pd.DataFrame([asdict(point) for point in record.curve])
        st.altair_chart(alt.Chart(curve).mark_line(point=True).encode(
            x=alt.X("step:Q", title="optimizer steps"), y=alt.Y("top1:Q", title="top-1 (target test)")))
