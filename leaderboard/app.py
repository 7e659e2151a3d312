"""The tlarena leaderboard (``tlarena leaderboard``, or ``streamlit run leaderboard/app.py``).

Reads the records in ``$TLARENA_RESULTS`` (default ``results``). Every name that comes from a
plugin or a record is drawn as text (tables, plain text, code, JSON), never as markdown or HTML.
"""
from __future__ import annotations

import os
import traceback
from pathlib import Path

import streamlit as st

from tlarena_leaderboard import filters, loading
from tlarena_leaderboard.url import Url
from tlarena_leaderboard.views import compare, convergence, cost, detail, overview_view
from tlarena_leaderboard.views.context import Context

VIEWS = {"overview": ("Overview", overview_view), "convergence": ("Convergence", convergence),
         "cost": ("Cost", cost), "detail": ("Run detail", detail), "compare": ("Compare two", compare)}


def main() -> None:
    st.set_page_config(page_title="tlarena leaderboard", layout="wide")
    st.title("tlarena leaderboard")
    results = Path(os.environ.get("TLARENA_RESULTS", "results"))
    try:
        loaded = loading.load_current(results)
    except OSError as error:
        st.error("The results folder cannot be read.")
        st.text(f"{results}: {type(error).__name__}: {error}")
        return
    if loaded.notes:
        st.warning(f"{len(loaded.notes)} notes about records that are not shown:")
        st.text("\n".join(loaded.notes))
    if loaded.frame.empty:
        st.info("No run records to show yet. Record some with `tlarena run --all`.")
        st.text(f"results folder: {results}")
        return
    plugins = tuple(p for p in os.environ.get("TLARENA_PLUGINS", "").split(",") if p)
    frame = filters.with_taxonomy(loaded.frame, *loading.taxonomy(plugins))
    url = Url()
    kept, rule = filters.sidebar(frame, url)
    names = list(VIEWS)
    view = st.radio("View", names, key=url.one("view", names, "overview"), horizontal=True,
                    format_func=lambda name: VIEWS[name][0])
    if kept.empty:
        st.info("No runs match these filters.")
    else:
        state = tuple((k, str(st.session_state.get(k))) for k, _ in filters.FILTERS)
        key = (str(results.resolve()), loading.signature(results), state, rule)
        try:
            VIEWS[view][1].render(Context(kept, loaded.curves, rule, url, results, key))
        except Exception:   # a record readable as JSON can still hold values no view can use
            st.error("This view cannot be drawn from these records; the error follows.")
            st.code(traceback.format_exc(), language=None)
    url.publish()


main()
