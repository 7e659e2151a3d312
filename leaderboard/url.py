"""The view's state in the URL's query parameters, so that a view is shared by its link.

Each widget's value starts from the link (when valid for the data shown), else its default; after
the widgets ran, ``publish`` writes every value that is not its default back into the URL.
"""
from __future__ import annotations

import streamlit as st


class Url:
    def __init__(self) -> None:
        self._defaults: dict[str, object] = {}

    def one(self, key: str, options: list[str], default: str | None) -> str:
        """The widget key for a single choice among ``options``, initialised from the link."""
        if key not in st.session_state or st.session_state[key] not in options:
            wanted = st.query_params.get(key)
            st.session_state[key] = wanted if wanted in options else default
        self._defaults[key] = default
        return key

    def many(self, key: str, options: list[str]) -> str:
        """The widget key for a multiple choice (empty = everything), initialised from the link."""
        if key not in st.session_state:
            st.session_state[key] = [v for v in st.query_params.get_all(key) if v in options]
        else:
            st.session_state[key] = [v for v in st.session_state[key] if v in options]
        self._defaults[key] = []
        return key

    def publish(self) -> None:
        values = {key: st.session_state.get(key) for key in self._defaults}
        st.query_params.from_dict({key: value for key, value in values.items()
                                   if value not in (None, [], self._defaults[key])})
