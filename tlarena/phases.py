"""What a run is doing now, told to whoever listens: the progress display of `tlarena run`.

A run executes in a worker process; the worker listens and forwards each ``Phase`` to its parent
through its pipe (``tlarena.executors``). Where nobody listens, telling costs one ``None`` check,
so the trainer may tell every step. Step reports are thinned to one a second; a change of phase
is always told at once. Nothing here touches a number.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterator

PREPARING = "preparing"
BUILDING = "building dataset"
DECODING = "decoding"
TRAINING = "training"
TRAINING_SOURCE = "training the source model"
EVALUATING = "evaluating"

_STEP_INTERVAL = 1.0   # seconds between two step reports of one phase


@dataclass(frozen=True)
class Phase:
    what: str            # one of the names above
    subject: str = ""    # the dataset being built or decoded
    step: int = 0        # training: the step reached, of ``steps``
    steps: int = 0

    def text(self) -> str:
        text = f"{self.what} {self.subject}".strip()
        return f"{text} {self.step}/{self.steps}" if self.steps else text

    def begun(self) -> str:
        """The phase as a log's one line about it says it: its length, not a count that never moves."""
        text = f"{self.what} {self.subject}".strip()
        return f"{text} ({self.steps:,} steps)" if self.steps else text

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Phase":
        return cls(**data)


_listener: Callable[[Phase], None] | None = None
_training_as = TRAINING          # what the trainer's steps count toward now
_last: tuple[str, float] = ("", 0.0)


def listen(listener: Callable[[Phase], None] | None) -> None:
    """Send this process's phases to ``listener`` from now on (None: to nobody)."""
    global _listener, _last
    _listener, _last = listener, ("", 0.0)


@contextlib.contextmanager
def listening(listener: Callable[[Phase], None]) -> Iterator[None]:
    previous = _listener
    listen(listener)
    try:
        yield
    finally:
        listen(previous)


def enter(what: str, subject: str = "") -> None:
    """The run starts ``what`` (on ``subject``)."""
    if _listener is not None:
        _tell(Phase(what, subject))


def step(done: int, steps: int) -> None:
    """The trainer reached step ``done`` of ``steps``: told at most once a second, and at once
    when the run was doing something else."""
    if _listener is None:
        return
    now = time.monotonic()
    if _last[0] != _training_as or now - _last[1] >= _STEP_INTERVAL or done == steps:
        _tell(Phase(_training_as, step=done, steps=steps))


@contextlib.contextmanager
def training(what: str) -> Iterator[None]:
    """The trainer's steps inside this block count toward ``what`` (e.g. the source model)."""
    global _training_as
    previous, _training_as = _training_as, what
    try:
        yield
    finally:
        _training_as = previous


def _tell(phase: Phase) -> None:
    global _last
    _last = (phase.what, time.monotonic())
    _listener(phase)
