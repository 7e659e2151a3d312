"""Which recorded runs `tlarena show` ranks, and `tlarena leaderboard` opens filtered to: ``--methods``,
``--pairs``, ``--settings``, ``--backbone``.

The same names as `tlarena run`'s options, so a user narrows the board to the grid they ran, or asks
"which method for my pair?" with ``--pairs``. A name with no recorded run is a mistake: it would
otherwise print an empty board, or a board without the one row asked for, and say nothing.
"""
from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from tlarena.usage import UsageError, csv_items

# (option, record column): each a comma-separated choice, as under `tlarena run`
OPTIONS = (("methods", "method"), ("pairs", "pair"), ("settings", "setting"), ("backbone", "backbone"))


def kept(frame: pd.DataFrame, chosen: dict[str, str | None], results: Path) -> pd.DataFrame:
    """The runs whose every column named in ``chosen`` (option → comma-separated names) is one of
    its names; an unrecorded name, or names no one run has together, raise a ``UsageError``."""
    asked: list[str] = []
    everything = frame
    for option, column in OPTIONS:
        text = chosen.get(option)
        if not text:
            continue
        names = csv_items(text)
        recorded = sorted(everything[column].astype(str).unique()) if not everything.empty else []
        for name in names:
            if name not in recorded:
                raise UsageError(_unrecorded(column, name, recorded, results))
        frame = frame[frame[column].astype(str).isin(names)]
        asked.append(f"--{option} {text}")
    if asked and frame.empty:
        raise UsageError(f"no run in {str(results)}/ is of {' and '.join(asked)} together "
                         f"(`tlarena show --cells` lists the recorded cells)")
    return frame


def _unrecorded(column: str, name: str, recorded: list[str], results: Path) -> str:
    if not recorded:
        return f"no {column} {name!r} in {str(results)}/: it holds no runs"
    close = difflib.get_close_matches(name, recorded, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"no run of {column} {name!r} in {str(results)}/.{hint} Recorded: {', '.join(recorded)}"
