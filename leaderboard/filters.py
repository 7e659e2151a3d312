"""The sidebar's filters: which runs the views show, and the selection rule that ranks them."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tlarena.selection import DEFAULT, RULES
from tlarena_leaderboard.url import Url

# (frame column, label): a multiple choice each; empty means every value
FILTERS = (("suite", "Suite"), ("backbone", "Backbone"), ("setting", "Setting"),
           ("family", "Method family"), ("pair", "Pairs"), ("method", "Methods"),
           ("steps", "Budget (method steps)"))
RULE_HELP = {DEFAULT: "source-val, or target-val in task transfer",
             "source-val": "held-out source labels", "target-val": "held-out target labels",
             "im": "information maximization on unlabeled target images",
             "snd": "soft neighborhood density on unlabeled target images "
                    "(im and snd: among runs that kept their source task)",
             "oracle": "ORACLE: the target test labels themselves, an upper bound only"}


def with_taxonomy(frame: pd.DataFrame, suites: dict[str, str], families: dict[str, str]) -> pd.DataFrame:
    """The frame with each run's suite and method family (``unknown`` for an unregistered name)."""
    if frame.empty:
        return frame
    return frame.assign(suite=frame["pair"].map(suites).fillna("unknown"),
                        family=frame["method"].map(families).fillna("unknown"))


# Streamlit cuts a chosen value's chip with an ellipsis at the sidebar's width
# ("uci-digits->uci-digits-ro…"): a name a user must type is shown whole, wrapped if need be.
WHOLE_CHIPS = """<style>
.stMultiSelect [data-tag] { max-width: none; height: auto; }
.stMultiSelect [data-tag] > span[title] { white-space: normal; overflow: visible; text-overflow: clip;
                                          overflow-wrap: anywhere; }
</style>"""


def sidebar(frame: pd.DataFrame, url: Url) -> tuple[pd.DataFrame, str]:
    """Draw the filters; the runs they keep and the selection rule chosen."""
    bar = st.sidebar
    bar.markdown(WHOLE_CHIPS, unsafe_allow_html=True)   # a constant: no record's text is HTML
    bar.header("Filters")
    rules = [DEFAULT, *RULES]
    rule = bar.selectbox("Selection rule", rules, key=url.one("selection", rules, DEFAULT),
                         format_func=lambda name: "oracle (upper bound only)" if name == "oracle" else name,
                         help="; ".join(f"{name}: {text}" for name, text in RULE_HELP.items()))
    kept = frame
    for column, label in FILTERS:
        options = sorted(frame[column].dropna().astype(str).unique(), key=_natural)
        chosen = bar.multiselect(label, options, key=url.many(column, options), placeholder="all")
        if chosen:
            kept = kept[kept[column].astype(str).isin(chosen)]
    return kept, rule


def _natural(text: str):
    """Budgets sort as numbers (30 before 200), names as text."""
    return (0, float(text), "") if text.replace(".", "", 1).isdigit() else (1, 0.0, text)
