"""What every view receives, and the selected runs they share."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

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


def offer_downloads(csv: str, latex: str, stem: str) -> None:
    """The view's table as CSV and LaTeX, as `tlarena show --format csv|latex` writes them."""
    left, right = st.columns(2)
    left.download_button("Download CSV", csv, file_name=f"{stem}.csv", mime="text/csv")
    right.download_button("Download LaTeX (booktabs)", latex, file_name=f"{stem}.tex", mime="text/x-tex")


def offer_table(table: pd.DataFrame, stem: str) -> None:
    offer_downloads(aggregate.export(table, "csv"), aggregate.export(table, "latex"), stem)
