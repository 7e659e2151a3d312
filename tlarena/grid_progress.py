"""What `tlarena run` shows while its grid runs: each run that is under way and its phase, an ETA,
and one line per finished run with its accuracy.

On a terminal a live bar sits under the finished-run lines, each run under way on a line of its
own that is cut, never wrapped, at the terminal's width. Anywhere else (a pipe, a CI log) plain
lines only, with no control characters: one per finished run, and one when a run starts a slow
part (building or decoding a dataset, training the source model).

The ETA adds up the runs left: each at the median wall time of recorded runs of its cell (else of
its method) on this hardware (``tlarena.plan``), else of the runs of its method finished in this
grid, else its steps at the median time per step of the runs finished in this grid that trained
(a source-only run trains none: its few seconds once put the ETA of a grid of DANN runs at 11 s);
a run under way counts what it has left. With no estimate for some run left, it says so instead of
guessing. A run of this grid counts without its slow shared parts (building or decoding a dataset,
training the source model): the first runs do them for the runs after, and counting them in every
run put the first ETA of `run --all` at twice its time.
"""
from __future__ import annotations

import json
import statistics
import threading
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from tlarena import phases
from tlarena.plan import duration, wall_seconds
from tlarena.records import RunRecord, record_path
from tlarena.spec import RunSpec

SKIPPED = "recorded"   # run_grid's status of a run that was recorded before this grid
LOST = ("failed", "diverged", "timed-out")
_SLOW = (phases.BUILDING, phases.DECODING, phases.TRAINING_SOURCE)


class GridProgress:
    """Feed it ``phase(spec, phase)`` from the executor and ``finished(spec, status)`` from
    ``run_grid``; use it as a context manager around the grid."""

    def __init__(self, console: Console, specs: list[RunSpec], results: Path, workers: int = 1,
                 estimates: dict[str, float | None] | None = None):
        self.console, self.results, self.workers = console, results, max(1, workers)
        self.total, self.done = len(specs), 0
        self.estimates = dict(estimates or {})            # key → seconds; None: unknown
        self.left = {spec.key: spec for spec in specs}
        self.running: dict[str, tuple[RunSpec, phases.Phase, float]] = {}
        self.times: dict[str, list[float]] = defaultdict(list)   # this grid's wall times by method
        self.step_times: list[float] = []                         # … per step, of runs that trained
        self.shared: dict[str, float] = defaultdict(float)        # key → seconds in _SLOW phases
        self._slow_since: dict[str, float] = {}
        self.started = time.monotonic()
        self._lock = threading.Lock()   # the live display reads from its own thread
        self._bar: _Bar | None = None

    def __enter__(self) -> "GridProgress":
        if self.console.is_terminal:
            self._bar = _Bar(self, TextColumn("runs"), BarColumn(bar_width=20), MofNCompleteColumn(),
                             TextColumn("{task.fields[clock]}"), console=self.console)
            self._task = self._bar.add_task("runs", total=self.total, clock="")
            self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def phase(self, spec: RunSpec, phase: phases.Phase) -> None:
        now = time.monotonic()
        with self._lock:
            previous = self.running.get(spec.key)
            began = previous[2] if previous else now
            self.running[spec.key] = (spec, phase, began)
            entered = previous is None or previous[1].what != phase.what
            if entered and previous is not None:
                self._leave(spec.key, previous[1], now)
            if entered and phase.what in _SLOW:
                self._slow_since[spec.key] = now
        if self._bar is None and entered and phase.what in _SLOW:
            self.console.print(Text(f"  {spec.label()}: {phase.begun()}"), soft_wrap=True)

    def _leave(self, key: str, phase: phases.Phase, now: float) -> None:
        """The run ``key`` leaves ``phase``: a slow shared phase's time goes to ``shared``."""
        since = self._slow_since.pop(key, None)
        if since is not None and phase.what in _SLOW:
            self.shared[key] += now - since

    def finished(self, spec: RunSpec, status: str) -> None:
        with self._lock:
            self.done += 1
            self.left.pop(spec.key, None)
            running = self.running.pop(spec.key, None)
            if running is not None:
                self._leave(spec.key, running[1], time.monotonic())
            shared = self.shared.pop(spec.key, 0.0)
        if status == SKIPPED:
            self._refresh()
            return   # a line per skipped run would bury the runs that do work
        record = _read(self.results, spec) if status not in ("running elsewhere",) else None
        seconds = wall_seconds(record) if record else None
        if seconds is not None and status != "n/a":
            own = max(0.0, seconds - shared)
            self.times[spec.method].append(own)
            if record.cost is not None and record.cost.steps > 0:
                self.step_times.append(own / record.cost.steps)
        line = f"[{self.done}/{self.total}] {status} {spec.label()}"
        if record is not None and record.metrics is not None:
            line += f"  top-1 {100 * record.metrics.top1:.1f} %"
        if seconds is not None and status != "n/a":
            line += f"  in {_clock(seconds)}"
        line += f"  elapsed {_clock(time.monotonic() - self.started)}  {self.eta()}"
        # one line whatever the width: the terminal wraps it, a log keeps it whole for grep
        self.console.print(Text(line, style="red" if status in LOST else ""), soft_wrap=True)
        self._refresh()

    def warn(self, problem: str) -> None:
        self.console.print(Text(f"warning: {problem}", style="yellow"), soft_wrap=True)

    def eta(self) -> str:
        """``ETA ~4 min``, or why there is none yet."""
        now = time.monotonic()
        with self._lock:
            left = list(self.left.values())
            running = {key: began for key, (_, _, began) in self.running.items()}
        if not left:
            return "ETA 0 s"
        total = 0.0
        for spec in left:
            seconds = self.estimates.get(spec.key)
            if seconds is None and self.times.get(spec.method):
                seconds = statistics.median(self.times[spec.method])
            if seconds is None and self.step_times:
                seconds = statistics.median(self.step_times) * spec.budget.steps
            if seconds is None:
                return "ETA known once a run has trained" if self.times else "ETA known after the first run"
            total += max(0.0, seconds - (now - running[spec.key])) if spec.key in running else seconds
        return f"ETA {duration((total / self.workers, 0))}"

    def running_lines(self) -> list[str]:
        with self._lock:
            running = list(self.running.values())
        return [f"  {spec.label()}: {phase.text()}" for spec, phase, _ in running]

    def _refresh(self) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)


class _Bar(Progress):
    """rich's bar with the grid's clock, and a line per run under way beneath it."""

    def __init__(self, grid: GridProgress, *columns, **kwargs):
        self.grid = grid   # before rich's __init__, which renders once
        super().__init__(*columns, **kwargs)

    def get_renderables(self):
        for task in self.tasks:
            self.update(task.id, clock=f"elapsed {_clock(time.monotonic() - self.grid.started)}  "
                                       f"{self.grid.eta()}")
        yield self.make_tasks_table(self.tasks)
        for line in self.grid.running_lines():
            text = Text(line)
            text.truncate(self.console.width, overflow="ellipsis")   # one line each, however narrow
            yield text


def _read(results: Path, spec: RunSpec) -> RunRecord | None:
    """The record ``run_grid`` has just written for ``spec``."""
    try:
        return RunRecord.from_dict(json.loads(record_path(results, spec.key).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"

