"""Reading a results folder for the app: cached, and read again as soon as a record is added,
replaced or removed (the cache key includes the folder's signature)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from tlarena.records import RunRecord, read_records, records_frame

CURVE = ["key", "step", "samples", "seconds", "flops", "top1"]


@dataclass(frozen=True)
class Results:
    """Every readable record as one row per run, the learning curves as one row per point, and a
    line per record that could not be used (corrupt, other protocol)."""

    frame: pd.DataFrame
    curves: pd.DataFrame
    notes: tuple[str, ...]


def signature(results: Path) -> tuple[int, int, int]:
    """(records, newest modification, total bytes): changes whenever the folder's records do."""
    count = newest = size = 0
    with os.scandir(results) as entries:
        for entry in entries:
            if entry.name.endswith(".json") and not entry.name.startswith("."):
                info = entry.stat()
                count, newest, size = count + 1, max(newest, info.st_mtime_ns), size + info.st_size
    return count, newest, size


def read(results: Path) -> Results:
    """The folder's records, uncached."""
    if not results.is_dir():
        return Results(pd.DataFrame(), pd.DataFrame(columns=CURVE),
                       (f"no results folder {results}: run `tlarena run --all` first",))
    records, notes = read_records(results)
    return Results(records_frame(records), curve_frame(records), tuple(notes))


def curve_frame(records: list[RunRecord]) -> pd.DataFrame:
    rows = [(r.key, p.step, p.samples, p.seconds, p.flops, p.top1) for r in records for p in r.curve]
    return pd.DataFrame(rows, columns=CURVE)


@st.cache_data(show_spinner="reading run records…", max_entries=4)
def load(results: str, folder_signature: tuple[int, int, int]) -> Results:
    """``read``, cached per folder and signature."""
    return read(Path(results))


def load_current(results: Path) -> Results:
    if not results.is_dir():
        return read(results)
    return load(str(results.resolve()), signature(results))


@st.cache_resource(show_spinner="loading plugins…")
def taxonomy(plugins: tuple[str, ...] = ()) -> tuple[dict[str, str], dict[str, str]]:
    """{pair: suite} and {method: family} from the registered plugins (records do not carry them)."""
    from tlarena.plugins import load_arena

    try:
        arena = load_arena(plugins)
    except Exception:   # the board still shows every record; suite and family read "unknown"
        return {}, {}
    return ({p.name: p.suite for p in arena.pairs}, {m.name: m.family for m in arena.methods})


def read_record(results: Path, key: str) -> RunRecord | None:
    """One record by its key, read again from its file (the frame holds no tracebacks or specs)."""
    import json

    records_path = results / f"{key}.json"
    try:
        return RunRecord.from_dict(json.loads(records_path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
