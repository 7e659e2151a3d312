"""What `tlarena run --dry-run` reports: the grid, what is recorded, what is left, and how long the
rest should take on this hardware, judged from runs recorded on it.

A left run's estimate is the median wall time of the recorded runs of its cell (its spec but the
seed) on the same hardware; else of its method's finished runs there; else unknown. A run that
cannot apply (n/a) is recorded without training: it costs nothing. A shared source model's training
is in the wall time of the run that trained it, so a grid of new seeds takes somewhat longer.
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from tlarena.records import RunRecord
from tlarena.spec import RunSpec

HOW = ("same cell", "same method", "n/a", "unknown")   # how a left run's time was estimated


@dataclass
class Plan:
    specs: list[RunSpec]
    recorded: set[str]                # keys `tlarena run` skips
    claimed: set[str]                 # keys another `tlarena run` holds a claim on right now
    seconds: dict[str, float | None] = field(default_factory=dict)   # per left key; None: unknown
    how: dict[str, str] = field(default_factory=dict)                # per left key: one of HOW

    @property
    def left(self) -> list[RunSpec]:
        return [s for s in self.specs if s.key not in self.recorded]

    def counts(self, by: Callable[[RunSpec], str]) -> list[list[str]]:
        """One row per group: name, runs, recorded, claimed, left, estimated time of the left runs."""
        groups: dict[str, list[RunSpec]] = defaultdict(list)
        for spec in self.specs:
            groups[by(spec)].append(spec)
        rows = []
        for name, specs in sorted(groups.items()):
            left = [s for s in specs if s.key not in self.recorded]
            rows.append([name, str(len(specs)), str(len(specs) - len(left)),
                         str(sum(s.key in self.claimed for s in left)), str(len(left)),
                         duration(self.total(left)) if left else "-"])
        return rows

    def total(self, specs: Iterable[RunSpec] | None = None) -> tuple[float, int]:
        """(seconds estimated, runs left without an estimate)."""
        specs = self.left if specs is None else specs
        known = [self.seconds[s.key] for s in specs if self.seconds[s.key] is not None]
        return sum(known), sum(self.seconds[s.key] is None for s in specs)


def plan(specs: list[RunSpec], recorded: set[str], records: list[RunRecord], hardware: str,
         not_applicable: Callable[[RunSpec], bool], claimed: set[str] = frozenset()) -> Plan:
    """The plan of ``specs`` given the keys already ``recorded`` and the ``records`` to time from."""
    by_cell, by_method = defaultdict(list), defaultdict(list)
    for record in records:
        seconds = wall_seconds(record)
        if seconds is None or record.environment is None or record.environment.device_name != hardware:
            continue
        by_cell[record.spec.cell].append(seconds)
        if record.status in ("ok", "diverged"):   # trained to the end of its budget
            by_method[record.spec.method].append(seconds)
    result = Plan(specs, recorded, set(claimed))
    for spec in result.left:
        if not_applicable(spec):
            how, seconds = "n/a", 0.0
        elif by_cell[spec.cell]:
            how, seconds = "same cell", statistics.median(by_cell[spec.cell])
        elif by_method[spec.method]:
            how, seconds = "same method", statistics.median(by_method[spec.method])
        else:
            how, seconds = "unknown", None
        result.seconds[spec.key], result.how[spec.key] = seconds, how
    return result


def wall_seconds(record: RunRecord) -> float | None:
    """From the record's start to its end, as recorded (whole seconds); None if it lacks either."""
    if not (record.started_at and record.finished_at):
        return None
    try:
        return (dt.datetime.fromisoformat(record.finished_at)
                - dt.datetime.fromisoformat(record.started_at)).total_seconds()
    except ValueError:
        return None


def duration(estimate: tuple[float, int]) -> str:
    """``(seconds, unknown runs)`` as a reader wants it: "~12 min", "~40 s + 3 unknown", "unknown"."""
    seconds, unknown = estimate
    if unknown and not seconds:
        return "unknown"
    text = (f"~{seconds:.0f} s" if seconds < 100 else f"~{seconds / 60:.0f} min" if seconds < 6000
            else f"~{seconds / 3600:.1f} h")
    return text + (f" + {unknown} unknown" if unknown else "")
