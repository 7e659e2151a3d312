"""The app's charts as Vega-Lite (altair) specs, built from plain frames so tests can read them."""
from __future__ import annotations

import math

import altair as alt
import pandas as pd

AXES = {"step": "optimizer steps", "samples": "training samples", "flops": "training FLOPs",
        "train_flops": "training FLOPs (method's own)", "train_seconds": "training wall time (s)"}
LEGEND_COLUMNS, LEGEND_ROW = 4, 30    # a curve chart's legend: entries to a row, px a row


def curve_bands(curves: pd.DataFrame, x: str) -> pd.DataFrame:
    """Per (series, x): mean top-1 over seeds and the band from the lowest to the highest seed."""
    return (curves.groupby(["series", x], as_index=False)
            .agg(top1=("top1", "mean"), low=("top1", "min"), high=("top1", "max"), seeds=("top1", "count")))


def learning_curves(bands: pd.DataFrame, x: str) -> alt.Chart:
    # under the chart, four to a row: on the right a legend of 16 methods ran past the chart's
    # foot and lost its last 6; below, the chart grows by its rows and never drops an entry
    legend = alt.Legend(orient="bottom", columns=LEGEND_COLUMNS, symbolLimit=0, labelLimit=0,
                        symbolOpacity=1)    # the band's 0.2 made every entry too pale to match
    base = alt.Chart(bands).encode(x=alt.X(f"{x}:Q", title=AXES[x]),
                                   color=alt.Color("series:N", title="method", legend=legend))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", title="top-1 (target test)"), y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="top1:Q", tooltip=["series:N", f"{x}:Q", alt.Tooltip("top1:Q", format=".3f"), "seeds:Q"])
    rows = -(-bands["series"].nunique() // LEGEND_COLUMNS)
    return (band + line).properties(height=320 + LEGEND_ROW * rows)


def pareto_front(points: pd.DataFrame, cost: str, accuracy: str = "top1") -> pd.DataFrame:
    """The points no other point beats on both axes (lower cost and higher accuracy), by cost."""
    ordered = points.dropna(subset=[cost, accuracy]).sort_values([cost, accuracy], ascending=[True, False])
    best, front = float("-inf"), []
    for index, value in zip(ordered.index, ordered[accuracy]):
        if value > best:
            front.append(index)
            best = value
    return ordered.loc[front]


def cost_accuracy(points: pd.DataFrame, cost: str) -> alt.Chart:
    """Accuracy against cost, one point per method, the Pareto front as a step line."""
    front = pareto_front(points, cost).assign(front="Pareto front")
    scale, ticks = _log_axis(points[cost])
    x = alt.X(f"{cost}:Q", title=AXES[cost], scale=scale,
              # each label formatted alone: an axis format shares one prefix (0T, 0T, 0.1T, 1T)
              axis=alt.Axis(values=ticks, labelExpr="datum.value == 0 ? '0' : format(datum.value, '~s')"))
    dots = alt.Chart(points).mark_circle(size=90).encode(
        x=x, y=alt.Y("top1:Q", title="mean top-1 over pairs"), color=alt.Color("method:N"),
        tooltip=["method:N", alt.Tooltip("top1:Q", format=".3f"), f"{cost}:Q", "hardware:N"])
    line = alt.Chart(front).mark_line(interpolate="step-after", strokeDash=[4, 3], color="gray").encode(
        x=x, y="top1:Q", detail="front:N")
    return (line + dots).properties(height=320)


def _log_axis(costs: pd.Series) -> tuple[alt.Scale, list[float]]:
    """A log axis with ticks at the powers of ten the costs span (10G, 100G, 1T). Where a method
    costs nothing (source-only trains nothing of its own), a symmetric log one with a tick at 0:
    log(0) squeezed every point against the axis and dropped its ticks. Its constant, a tenth of
    the least cost above zero, spreads the others as a log axis would."""
    costs = costs.dropna()
    positive = costs[costs > 0]
    if positive.empty:
        return alt.Scale(type="linear"), [0.0]
    low, high = math.floor(math.log10(positive.min())), math.ceil(math.log10(positive.max()))
    decades = [10.0 ** k for k in range(low, high + 1)]
    if len(positive) == len(costs):
        return alt.Scale(type="log"), decades
    return alt.Scale(type="symlog", constant=float(positive.min()) / 10), [0.0, *decades]
