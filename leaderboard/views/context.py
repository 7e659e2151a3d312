"""What every view receives, and the selected runs they share."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tlarena import aggregate, overview
from tlarena_leaderboard.url import Url


@dataclass
class Context:
    frame: pd.DataFrame      # the filtered runs, every status
    curves: pd.DataFrame     # learning-curve points of every run, by key
    rule: str                # the selection rule
    url: Url
    results: Path
    cache_key: tuple         # changes with the records, the filters and the rule


def chosen_runs(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    """The run each (cell, seed) selects under ``rule``, with its board's title in ``board``."""
    chosen, _ = aggregate.select(frame, rule)
    if chosen.empty:
        return chosen.assign(board=pd.Series(dtype=str))
    named = [k for k in overview.BOARD
             if k in overview.ALWAYS_NAMED or chosen[k].astype(str).nunique() > 1]
    titles = chosen[named].astype(str).agg(" · ".join, axis=1)
    return chosen.assign(board=titles + " · selection " + chosen["selection"])
