"""Where the runs of a grid execute, and the grid's loop: skip what is recorded, record the rest.

``InProcess`` runs each spec in this process: a plugin that raises is recorded as failed, but one
that calls ``sys.exit``, crashes the interpreter or hangs would take the grid with it. ``Isolated``
(the command line's default) runs them in a worker process: when the worker dies, its run is
recorded as ``failed`` with its exit code, and when it gives no answer within ``timeout`` seconds it
is stopped and its run recorded as ``timed-out``; a fresh worker takes the next run.

Workers come from a fork server (spawned where there is none, on Windows): a plain fork of this
process would copy an OpenMP thread team that torch already used, and the child would hang in its
first parallel op; CUDA does not survive a fork either. The server imports tlarena once; each
worker forked from it loads the plugins and takes this process's environment variables.
"""
from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import multiprocessing.connection
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Protocol

from tlarena.records import (Environment, RunRecord, clean_temporaries, finished_keys, write_record)
from tlarena.spec import RunSpec

RETRIED = ("failed", "timed-out")   # statuses the next `tlarena run` tries again (--no-retry keeps them)
DEFAULT_TIMEOUT = 4 * 3600          # seconds: far above any run of the default suites on a CPU


class Executor(Protocol):
    def execute(self, spec: RunSpec) -> tuple[RunRecord, list[str]]:
        """The record of ``spec`` and the problems plugins reported when it finished."""

    def close(self) -> None: ...


def run_grid(specs: list[RunSpec], executor: Executor, results: Path, *, rerun: bool = False,
             retry: bool = True, progress: Callable[[RunSpec, str], None] | None = None) -> list[RunRecord]:
    """Run every spec not yet recorded (all with ``rerun``; failed and timed-out ones again unless
    ``retry`` is off), writing each record as soon as it exists; return the new records."""
    clean_temporaries(results)
    done = set() if rerun else finished_keys(results, RETRIED if retry else ())
    new = []
    try:
        for spec in specs:
            if spec.key in done:
                if progress:
                    progress(spec, "recorded")
                continue
            record, problems = executor.execute(spec)
            write_record(results, record)
            done.add(spec.key)
            new.append(record)
            for problem in problems:
                print(f"warning: {problem}")
            if progress:
                progress(spec, record.status)
    finally:
        executor.close()
    return new


class InProcess:
    """Each spec in this process, through ``runner`` (a ``tlarena.runner.Runner``)."""

    def __init__(self, runner):
        self.runner = runner

    def execute(self, spec: RunSpec) -> tuple[RunRecord, list[str]]:
        record = self.runner.execute(spec)
        return record, self.runner.arena.notify_run_finished(record)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class RunnerRecipe:
    """What a spawned worker needs to build the same runner as its parent."""

    plugins: tuple[str, ...]
    device: str
    data_dir: str | None
    environment: tuple[tuple[str, str], ...] = ()   # this process's, as the worker is made

    def build(self):
        import torch

        os.environ.clear()
        os.environ.update(dict(self.environment))

        from tlarena.plugins import load_arena
        from tlarena.runner import Runner
        return Runner(load_arena(self.plugins), torch.device(self.device),
                      Path(self.data_dir) if self.data_dir else None)


class Isolated:
    """Each spec in a worker process that a crash, ``sys.exit`` or hang of a plugin cannot pass."""

    def __init__(self, runner, recipe: RunnerRecipe, timeout: float = DEFAULT_TIMEOUT):
        self.runner, self.recipe, self.timeout = runner, recipe, timeout
        server = "forkserver" in multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context("forkserver" if server else "spawn")
        if server:
            self._context.set_forkserver_preload(["tlarena.executors", "tlarena.runner", "tlarena.plugins"])
        self._worker = self._connection = None

    def execute(self, spec: RunSpec) -> tuple[RunRecord, list[str]]:
        self._ensure_worker()
        started = _now()
        self._connection.send(json.dumps(spec.to_dict()))
        if not self._connection.poll(self.timeout):
            self._stop_worker()
            return self._lost(spec, "timed-out", started,
                              f"no result after {self.timeout:g} s (--run-timeout); its worker was stopped"), []
        try:
            answer = json.loads(self._connection.recv())
        except (EOFError, OSError):
            self._worker.join(timeout=10)
            code = self._worker.exitcode
            self._stop_worker()
            return self._lost(spec, "failed", started, _death(code)), []
        return RunRecord.from_dict(answer["record"]), answer["problems"]

    def close(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            self._connection.send(None)
            self._worker.join(timeout=30)
        self._stop_worker()

    def _ensure_worker(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        self._stop_worker()
        parent, child = self._context.Pipe()
        recipe = replace(self.recipe, environment=tuple(os.environ.items()))
        self._worker = self._context.Process(target=_serve, args=(child, recipe), daemon=True,
                                             name="tlarena-worker")
        self._worker.start()
        child.close()
        self._connection = parent

    def _stop_worker(self) -> None:
        if self._worker is not None:
            if self._worker.is_alive():
                self._worker.kill()
            self._worker.join(timeout=10)
            self._connection.close()
        self._worker = self._connection = None

    def _lost(self, spec: RunSpec, status: str, started: str, reason: str) -> RunRecord:
        """The record of a run whose worker gave no record: what the parent knows of it."""
        from tlarena.environment import environment

        record = RunRecord(spec, status, reason)
        record.environment = Environment(**environment(self.runner.device))
        record.started_at, record.finished_at = started, _now()
        return record


def _serve(connection, recipe: RunnerRecipe) -> None:
    """The worker: run each spec it is sent, answer with its record, until told to stop."""
    _exit_with_parent()
    runner = recipe.build()
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        record = runner.execute(RunSpec.from_dict(json.loads(message)))
        problems = runner.arena.notify_run_finished(record)
        connection.send(json.dumps({"record": record.to_dict(), "problems": problems}))


def _exit_with_parent() -> None:
    """A worker whose parent was killed stops at once, instead of training on unobserved."""
    parent = multiprocessing.parent_process()

    def watch():
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="tlarena-parent-watch").start()


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        return f"its worker process was killed by signal {-code} (a crash in native code, or out of memory)"
    return (f"its worker process exited with code {code} before recording it "
            f"(the method or a plugin called sys.exit or os._exit)")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
