"""Paired comparisons of two methods: the same pair, the same trial seed, everything else equal.

Two methods' selected runs are matched by (pair, trial seed) within one board (setting, backbone,
budget, …), so each difference compares like with like: the same data split, the same source model.
The mean difference gets a paired Student-t 95 % interval over the matched (pair, seed) runs; two
methods are *tied* when that interval contains 0 (equivalently, a two-sided paired t-test at the 5 %
level does not reject equal means). Treating (pair, seed) runs as independent is an approximation:
runs on one pair share its data, so the interval is optimistic when pairs differ a lot.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
# the Student t quantile: scipy.stats.t.ppf(q, df) is stdtrit(df, q), and scipy.stats alone
# takes seconds to import
from scipy.special import stdtrit

# A per-run difference this small (0.1 percentage point) is a tie, not a win.
TIE_TOLERANCE = 1e-3
TEST = ("paired Student-t over matched (pair, seed) runs; tied = the 95 % interval of the mean "
        "difference contains 0")


@dataclass(frozen=True)
class Paired:
    """``a`` against ``b``: how many matched runs, wins / ties / losses of ``a``, and the mean of
    ``a − b`` top-1 with its 95 % interval (NaN bounds with fewer than two matches)."""

    runs: int
    wins: int
    ties: int
    losses: int
    mean_difference: float
    low: float
    high: float

    @property
    def tied(self) -> bool:
        """True when the interval contains 0, or there are too few runs to tell the two apart."""
        return not (self.low > 0 or self.high < 0)

    @property
    def tested(self) -> bool:
        return self.runs >= 2 and bool(np.isfinite(self.low))


def matched(chosen: pd.DataFrame, a: str, b: str, on: list[str]) -> pd.DataFrame:
    """The selected runs of methods ``a`` and ``b`` side by side, one row per match on ``on`` +
    pair + seed, with columns ``top1_a``, ``top1_b`` and ``difference`` (a − b)."""
    keep = on + ["pair", "seed", "top1"]
    left = chosen.loc[chosen["method"] == a, keep]
    right = chosen.loc[chosen["method"] == b, keep]
    both = left.merge(right, on=on + ["pair", "seed"], suffixes=("_a", "_b"))
    return both.assign(difference=both["top1_a"] - both["top1_b"])


def compare(differences: pd.Series | np.ndarray) -> Paired:
    """Wins, ties, losses and the mean difference with its paired t interval."""
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    wins, losses = int((d > TIE_TOLERANCE).sum()), int((d < -TIE_TOLERANCE).sum())
    mean = float(d.mean()) if len(d) else float("nan")
    low = high = float("nan")
    if len(d) >= 2:
        spread = d.std(ddof=1)
        half = float(stdtrit(len(d) - 1, 0.975) * spread / np.sqrt(len(d)))
        low, high = mean - half, mean + half
    return Paired(len(d), wins, len(d) - wins - losses, losses, mean, low, high)
