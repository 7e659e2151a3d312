"""The paper-style overview: one board per setting and budget, and its downloads."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tlarena import overview
from tlarena_leaderboard.views.context import Context, offer_downloads


@st.cache_data(show_spinner="ranking…", max_entries=16)
def boards(cache_key: tuple, _frame: pd.DataFrame, rule: str) -> tuple[list, list[str]]:
    """``overview.boards``, cached per records, filters and rule (the frame is not hashed)."""
    return overview.boards(_frame, rule)


def _summary_first(table: pd.DataFrame) -> pd.DataFrame:
    """On screen the verdict comes before the pairs: a board of 30 pairs scrolls sideways."""
    summary = [overview.AVERAGE, overview.RANK, overview.TIED, overview.VERSUS]
    return table[["method", *summary, *[c for c in table if c not in summary and c != "method"]]]


def render(context: Context) -> None:
    found, notes = boards(context.cache_key, context.frame, context.rule)
    st.caption(overview.legend(context.rule))
    for note in notes:
        st.info(note)
    named = overview.named_fields(found)
    for board in found:
        st.text(board.title(named))
        if len(board.table):    # a board whose every method is n/a is its title and its notes
            st.dataframe(_summary_first(board.table), hide_index=True,
                         column_config={"method": st.column_config.TextColumn(pinned=True)})
        if board.notes:
            # one note a line: a note lists methods separated by "; " itself
            st.text("\n".join(board.notes))
    offer_downloads(overview.export(found, "csv"), overview.export(found, "latex"), "leaderboard")
