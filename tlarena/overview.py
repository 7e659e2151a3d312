"""The paper-style overview: methods × pairs, mean ± 95 % CI over seeds, the average over pairs, the
average rank, and which methods are statistically tied with the leader (``tlarena.paired``).

One board per (setting, backbone, weights, scoring protocol, budget): runs that differ in any of
those are never ranked against each other. A cell without a number says why — ``n/a``, ``failed``
or ``diverged`` with the recorded reason, ``missing`` when no run was recorded, ``not scored`` when
the selection rule cannot score its setting — so no blank reads as a zero. A method that is n/a on
every pair of a board (it cannot run in its setting or on its backbone) is named, with why, in one
note under the board instead of a row of n/a. ``tlarena show`` and the leaderboard app both build
their tables and exports here.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tlarena import aggregate, paired
from tlarena.selection import DEFAULT, resolve

# Everything that defines a cell but the method, the pair (and its data) and the source budget
# (None for a method that does not start from the source model: it still competes).
BOARD = [c for c in aggregate.SELECTED if c not in ("method", "pair", "data", "source_steps")]
ALWAYS_NAMED = ("setting", "backbone")
AVERAGE, RANK, VERSUS, TIED = "average", "avg rank", "vs leader (Δ, 95 % CI)", "tied with leader"
NUMBERS = ["row", "pair", "n", "top1_mean", "top1_ci95", "text"]


@dataclass
class Board:
    """One ranked table: its defining fields, the selection rule, and the rows to show."""

    fields: dict
    selection: str
    table: pd.DataFrame                         # method, one column per pair, average, rank, ties
    numbers: pd.DataFrame                       # per (method, pair): n, top1_mean, top1_ci95, note
    notes: list[str] = field(default_factory=list)

    def title(self, named: list[str]) -> str:
        shown = [f"{self.fields[k]}" if k in ALWAYS_NAMED else f"{k} {self.fields[k]}"
                 for k in named if self.fields[k] is not None]
        return " · ".join(shown + [f"selection {self.selection}"])


def boards(frame: pd.DataFrame, rule: str = DEFAULT) -> tuple[list[Board], list[str]]:
    """The overview boards of ``frame`` (every status) under selection ``rule``, and notes."""
    if frame.empty or "status" not in frame:
        return [], []
    chosen, unscored = aggregate.select(frame, rule)
    notes = [f"selection rule {rule} cannot score {unscored} (cell, seed) groups: their setting "
             f"lacks the data it needs"] if unscored else []
    frame = frame.assign(board=frame.groupby(BOARD, dropna=False, sort=True).ngroup())
    frame["row"] = _row_labels(frame)
    # the selected runs are rows of frame: they keep its index, hence its board and row label
    chosen = chosen.assign(board=frame.loc[chosen.index, "board"], row=frame.loc[chosen.index, "row"])
    stats = aggregate.over_seeds(chosen, ["board", "row", "pair", "selection"])
    return [_board({k: _plain(v) for k, v in zip(BOARD, runs[BOARD].iloc[0])}, runs,
                   stats[stats["board"] == board], chosen[chosen["board"] == board], rule)
            for board, runs in frame.groupby("board")], notes


def named_fields(found: list[Board]) -> list[str]:
    """The board fields a title needs: setting and backbone, and any other that differs."""
    varying = [k for k in BOARD if len({str(b.fields[k]) for b in found}) > 1]
    return [k for k in BOARD if k in ALWAYS_NAMED or k in varying]


def _plain(value):
    """A board field as a reader writes it: None, not NaN; 5, not 5.0 (a column with None is float)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _row_labels(runs: pd.DataFrame) -> pd.Series:
    """The method's name, with its source budget when one method ran with several in its board,
    and a short data hash when one (method, pair) ran on two versions of its data."""
    labels = runs["method"].astype(str)
    budgets = runs.groupby(["board", "method"])["source_steps"].transform(lambda s: s.nunique(dropna=False))
    several = budgets > 1
    labels = labels.where(~several, labels + " (source " + runs["source_steps"].astype(str) + " steps)")
    versions = runs.groupby([runs["board"], labels, runs["pair"]])["data"].transform("nunique")
    data = runs["data"].map(lambda text: hashlib.sha256(str(text).encode()).hexdigest()[:6])
    return labels.where(versions <= 1, labels + " (data " + data + ")")


def _board(fields: dict, runs: pd.DataFrame, stats: pd.DataFrame, chosen: pd.DataFrame,
           rule: str) -> Board:
    pairs = sorted(runs["pair"].unique())
    selection = stats["selection"].iloc[0] if len(stats) else resolve(rule, fields["setting"] != "task")
    folded, note = _na_everywhere(runs, pairs)
    notes = [note] if note else []
    notes += [f"{status}: {count} run{'' if count == 1 else 's'}" for status, count in
              runs.loc[runs["status"] != "ok", "status"].value_counts().sort_index().items()]
    columns = ["method", *pairs, AVERAGE, RANK, VERSUS, TIED]
    runs = runs[~runs["row"].isin(folded)]
    if runs.empty:
        return Board(fields, selection, pd.DataFrame(columns=columns), pd.DataFrame(columns=NUMBERS), notes)
    numbers = _numbers(runs, stats, pairs, rule)
    summary = _summary(numbers, chosen, pairs)
    table = numbers.pivot(index="row", columns="pair", values="text").reindex(columns=pairs)
    table = summary.join(table).reset_index().rename(columns={"row": "method"})
    return Board(fields, selection, table[columns], numbers, notes)


def _na_everywhere(runs: pd.DataFrame, pairs: list[str]) -> tuple[set[str], str | None]:
    """The method rows n/a on every pair of the board, and the note that names them with why.

    ``tlarena run --all`` records every method in every setting, so a board would otherwise give
    most of its rows to methods that cannot run in it; they are named once, under the board."""
    statuses = runs.groupby("row")["status"].agg(set)
    covered = runs.groupby("row")["pair"].nunique()
    folded = sorted(row for row, found in statuses.items() if found == {"n/a"} and covered[row] == len(pairs))
    if not folded:
        return set(), None
    first = runs[runs["row"].isin(folded)].groupby("row")[["method", "reason"]].first()
    # "dann runs only in uda, not in few-shot": the method's name is the row's, said once
    why = {row: str(reason).removeprefix(f"{method} ") if isinstance(reason, str) else "no reason recorded"
           for row, method, reason in first.itertuples()}
    groups: dict[str, list[str]] = {}
    for row in folded:
        groups.setdefault(why[row], []).append(row)
    said = "; ".join(f"{', '.join(rows)} ({reason})" for reason, rows in sorted(groups.items()))
    return set(folded), f"n/a on every pair, not shown: {said}"


def _numbers(runs: pd.DataFrame, stats: pd.DataFrame, pairs: list[str], rule: str) -> pd.DataFrame:
    """One row per (method row, pair) of the board: the numbers, or why there are none."""
    # plain dicts, not a DataFrame per cell: a board of 10,000 runs renders in milliseconds
    found = {(r, p): (n, m, c) for r, p, n, m, c in
             zip(stats["row"], stats["pair"], stats["n"], stats["top1_mean"], stats["top1_ci95"])}
    trouble = runs[runs["status"] != "ok"]
    counts: dict[tuple, list] = {}
    for (row, pair, status), count in trouble.groupby(["row", "pair", "status"]).size().items():
        counts.setdefault((row, pair), []).append((-count, status))
    reasons = trouble.dropna(subset=["reason"]).groupby(["row", "pair", "status"])["reason"].first()
    present = set(zip(runs["row"], runs["pair"]))
    rows = []
    for row in sorted(runs["row"].unique()):
        for pair in pairs:
            statuses = sorted(counts.get((row, pair), []))
            n, mean, ci = found.get((row, pair), (0, np.nan, np.nan))
            if n:
                text = f"{100 * mean:.1f} ± {100 * ci:.1f}" if n >= 2 else f"{100 * mean:.1f} (1 seed)"
                if statuses:
                    text += f" ({-sum(c for c, _ in statuses)} not ok: {statuses[0][1]})"
            elif (row, pair) not in present:
                text = "missing: no run recorded"
            elif not statuses:
                text = f"not scored: {rule} cannot score this setting"
            else:
                status = statuses[0][1]
                reason = str(reasons.get((row, pair, status), "no reason recorded")).split("\n")[0]
                text = f"{status}: {reason}"
            rows.append(dict(zip(NUMBERS, (row, pair, int(n), mean, ci, text))))
    return pd.DataFrame(rows, columns=NUMBERS)


def _summary(numbers: pd.DataFrame, chosen: pd.DataFrame, pairs: list[str]) -> pd.DataFrame:
    """Per method row: average over the pairs it has numbers on, average rank, ties with the leader."""
    scored = numbers.dropna(subset=["top1_mean"]).copy()
    scored["rank"] = scored.groupby("pair")["top1_mean"].rank(ascending=False, method="average")
    per_row = scored.groupby("row").agg(pairs=("pair", "count"), average=("top1_mean", "mean"),
                                        rank=("rank", "mean"))
    per_row = per_row.reindex(sorted(numbers["row"].unique()))
    order = per_row.assign(missing=per_row["pairs"].isna(), fewer=-per_row["pairs"].fillna(0),
                           negative=-per_row["average"])
    order = order.sort_values(["missing", "fewer", "rank", "negative"], kind="stable")
    leader = order.index[0] if not order["missing"].iloc[0] else None
    # one column per method row, one line per (pair, seed): paired differences are column subtractions
    wide = (chosen.pivot_table(index=["pair", "seed"], columns="row", values="top1", aggfunc="first")
            if len(chosen) else pd.DataFrame())
    rows = {}
    for row in order.index:
        count = per_row.loc[row, "pairs"]
        if np.isnan(count):
            rows[row] = {AVERAGE: "-", RANK: "-", VERSUS: "-", TIED: "-"}
            continue
        average = f"{100 * per_row.loc[row, 'average']:.1f}"
        if count < len(pairs):
            average += f" ({int(count)} of {len(pairs)} pairs)"
        rows[row] = {AVERAGE: average, RANK: f"{per_row.loc[row, 'rank']:.2f}",
                     **_versus(wide, row, leader)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("row")


def _versus(wide: pd.DataFrame, row: str, leader: str | None) -> dict:
    if row == leader:
        return {VERSUS: "leader", TIED: "leader"}
    result = paired.compare((wide[row] - wide[leader]).dropna() if row in wide else [])
    if not result.tested:
        return {VERSUS: f"{result.runs} matched run{'' if result.runs == 1 else 's'}", TIED: "too few runs to test"}
    interval = (f"{100 * result.mean_difference:+.1f} "
                f"[{100 * result.low:+.1f}, {100 * result.high:+.1f}]")
    return {VERSUS: interval, TIED: "yes" if result.tied else "no"}


def legend(rule: str = DEFAULT) -> str:
    """What the overview's numbers are, in one paragraph (printed under it and shown in the app)."""
    return (f"top-1 % on the target test images: mean ± Student-t 95 % CI half-width over trial "
            f"seeds, after selecting one configuration per seed with rule {rule}; average over the "
            f"pairs a method has numbers on; rank within each pair (1 = best). Tied with leader: "
            f"{paired.TEST}.")


def export(found: list[Board], fmt: str) -> str:
    """The boards as csv, markdown, latex (booktabs, escaped) or json text: one table with the
    board's fields as leading columns; in LaTeX one tabular per board, titled in a comment."""
    if fmt == "latex":
        named = named_fields(found)
        return "\n".join(_latex(board, named) for board in found)
    named = named_fields(found)
    tables = [board.table.assign(**{k: board.fields[k] for k in named}, selection=board.selection)
              for board in found]
    # a pair column of another board's pairs does not apply to this board's rows
    combined = pd.concat(tables, ignore_index=True).fillna("-") if tables else pd.DataFrame()
    leading = [c for c in [*named, "selection"] if c in combined]
    return aggregate.export(combined[leading + [c for c in combined if c not in leading]], fmt)


def _latex(board: Board, named: list[str]) -> str:
    """One board's tabular, its title and notes as comments around it; no tabular without rows."""
    lines = [f"% {board.title(named)}"]
    if len(board.table):
        lines.append(aggregate.export(board.table, "latex").rstrip("\n"))
    return "\n".join(lines + [f"% {note}" for note in board.notes]) + "\n"
