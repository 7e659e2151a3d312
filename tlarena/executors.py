"""Where the runs of a grid execute, and the grid's loop: skip what is recorded, claim, record the rest.

``InProcess`` runs each spec in this process: a plugin that raises is recorded as failed, but one
that calls ``sys.exit``, crashes the interpreter or hangs would take the grid with it. ``Isolated``
(the command line's default) runs them in a worker process: when the worker dies, its run is
recorded as ``failed`` with its exit code, and when it gives no answer within ``timeout`` seconds it
is stopped and its run recorded as ``timed-out``; a fresh worker takes the next run.
``tlarena.ray_executor.RayExecutor`` runs each as a task on a Ray cluster. Executors are registered
by plugins (``register_executors``: ``local`` and ``ray`` by ``tlarena.default_executors``); one that
sends runs to other machines builds on ``Remote`` and runs each there through ``run_remote``.

Several processes may run one grid into one results folder: each run is claimed
(``tlarena.claims``) just before it starts, so a run claimed by another live process is skipped
and one left by a dead process is taken over.

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
import multiprocessing.forkserver
import os
import time
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol

from tlarena import claims, phases
from tlarena.environment import environment
from tlarena.records import (Environment, RunRecord, clean_temporaries, finished_keys, newer_schema_keys,
                             record_path, write_record)
from tlarena.spec import RunSpec

RETRIED = ("failed", "timed-out")   # statuses the next `tlarena run` tries again (--no-retry keeps them)
DEFAULT_TIMEOUT = 4 * 3600          # seconds: far above any run of the default suites on a CPU
ELSEWHERE = "running elsewhere"           # the progress status of a run another live process has claimed


class Executor(Protocol):
    """Runs specs somewhere. ``start(spec)`` is called just before a spec starts; a spec for which
    it returns False (another process claimed or recorded it) is not run. Pull specs only when
    there is room to run them: a started spec stays claimed until its record comes back."""

    def results(self, specs: list[RunSpec], start: Callable[[RunSpec], bool]
                ) -> Iterator[tuple[RunSpec, RunRecord, list[str]]]:
        """Each started spec with its record and the problems plugins reported, as each run finishes."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class ExecutorRequest:
    """What ``tlarena run`` asks of an executor: the user's options; where the runs go is the executor's."""

    device: Any                    # the torch.device found for the grid in this process
    recipe: RunnerRecipe           # how a process elsewhere builds the runner this process would
    timeout: float = DEFAULT_TIMEOUT   # --run-timeout: seconds before a silent run is stopped
    workers: int = 1               # --workers
    in_process: bool = False       # --in-process
    options: Mapping[str, str] = field(default_factory=dict)   # --executor-option KEY=VALUE
    arena: Any = None              # the loaded plugins, for an executor that runs in this process
    on_phase: Any = None           # a PhaseListener: what each run is doing now, for the progress display


@dataclass(frozen=True)
class ExecutorType:
    """An executor a plugin registers, chosen with ``tlarena run --executor NAME``.

    ``create(request)`` returns the ``Executor``; it raises ``ValueError`` with a one-line reason
    when it cannot serve the request (an option's value, a missing package). ``options`` names each
    ``--executor-option`` key it takes with what it sets; any other key is refused before any work.
    """

    name: str
    create: Callable[[ExecutorRequest], Executor]
    description: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


def run_grid(specs: list[RunSpec], executor: Executor, results: Path, *, rerun: bool = False,
             retry: bool = True, progress: Callable[[RunSpec, str], None] | None = None,
             warn: Callable[[str], None] = lambda problem: print(f"warning: {problem}")) -> list[RunRecord]:
    """Run every spec not yet recorded (all with ``rerun``; failed and timed-out ones again unless
    ``retry`` is off), writing each record as soon as it exists; return the new records.

    A spec another live process has claimed is reported as ``ELSEWHERE`` and not waited for; one
    recorded by another process while this grid ran counts as recorded, even with ``rerun``.
    ``warn`` receives each problem a plugin reported (a reporter that raised)."""
    clean_temporaries(results)
    claims.remove_stale(results)
    _clean_cache()
    done = newer_schema_keys(results) if rerun else finished_keys(results, RETRIED if retry else ())
    todo = []
    for spec in specs:
        if spec.key in done:
            if progress:
                progress(spec, "recorded")
        else:
            done.add(spec.key)   # a spec listed twice runs once
            todo.append(spec)
    stamps = {spec.key: _stamp(results, spec.key) for spec in todo}
    held: dict[str, claims.Claim] = {}

    def start(spec: RunSpec) -> bool:
        claim = claims.take(claims.claim_path(record_path(results, spec.key)))
        status = ELSEWHERE if claim is None else None
        if claim is not None and _stamp(results, spec.key) != stamps[spec.key]:
            claim.release()     # another process recorded it after this grid looked
            status = "recorded"
        if status is not None:
            if progress:
                progress(spec, status)
            return False
        held[spec.key] = claim
        return True

    new = []
    try:
        for spec, record, problems in executor.results(todo, start):
            write_record(results, record)
            held.pop(spec.key).release()
            new.append(record)
            for problem in problems:
                warn(problem)
            if progress:
                progress(spec, record.status)
    finally:
        executor.close()
        for claim in held.values():
            claim.release()
    return new


def _clean_cache() -> None:
    """Claims and temporaries that killed builders left in the cache (source models, decoded
    splits, built datasets: one folder each)."""
    from tlarena.data.paths import cache_root

    if cache_root().is_dir():
        for folder in cache_root().iterdir():
            if folder.is_dir():
                claims.remove_orphans(folder)


def _stamp(results: Path, key: str) -> int | None:
    """The record file's modification time (None: no record), to tell one written meanwhile."""
    try:
        return record_path(results, key).stat().st_mtime_ns
    except FileNotFoundError:
        return None


def execute(runner, spec: RunSpec) -> tuple[RunRecord, list[str]]:
    """One run through ``runner``, wherever it executes: its record and the plugins' problems. A
    source model whose training failed is unclaimed, for another run or process to try."""
    from tlarena import source_models   # torch: only where a run executes, not for `tlarena --help`

    try:
        phases.enter(phases.PREPARING)
        record = runner.execute(spec)
    finally:
        source_models.release_unfinished()
    return record, runner.arena.notify_run_finished(record)


PhaseListener = Callable[[RunSpec, "phases.Phase"], None]   # what a run is doing now (tlarena.phases)


def reply(runner, spec: str) -> str:
    """One run of ``spec`` (a spec as JSON) through ``runner``, answered as JSON: its record and the
    plugins' problems. What a worker process sends back to the process that writes the records."""
    record, problems = execute(runner, RunSpec.from_dict(json.loads(spec)))
    return json.dumps({"record": record.to_dict(), "problems": problems})


_runners: dict = {}   # per process: the runner of each recipe, so plugins load and data decode once


def run_remote(recipe: RunnerRecipe, spec: str) -> str:
    """The body of a run sent elsewhere (a Ray task, a SLURM job): ``reply`` through the runner
    ``recipe`` builds, built once per process."""
    if recipe not in _runners:
        _runners[recipe] = recipe.build()
    return reply(_runners[recipe], spec)


class InProcess:
    """Each spec in this process, through ``runner`` (a ``tlarena.runner.Runner``)."""

    def __init__(self, runner, on_phase: PhaseListener | None = None):
        self.runner, self.on_phase = runner, on_phase

    def results(self, specs: list[RunSpec], start: Callable[[RunSpec], bool]
                ) -> Iterator[tuple[RunSpec, RunRecord, list[str]]]:
        for spec in specs:
            if start(spec):
                listener = (lambda phase, spec=spec: self.on_phase(spec, phase)) if self.on_phase else None
                with phases.listening(listener):
                    outcome = execute(self.runner, spec)
                yield spec, *outcome

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class RunnerRecipe:
    """What a spawned worker needs to build the same runner as its parent."""

    plugins: tuple[str, ...]
    device: str
    data_dir: str | None
    environment: tuple[tuple[str, str], ...] = ()   # this process's, as the worker is made
    threads: int | None = None                       # torch's CPU threads in the worker
    gpu: str | None = None                           # the worker's CUDA_VISIBLE_DEVICES
    declared: tuple[str, ...] = ()                   # pairs without Python: tlarena.pairs_file

    def build(self):
        if self.environment:   # a worker of this machine; a Ray worker keeps its cluster's environment
            os.environ.clear()
            os.environ.update(dict(self.environment))
        if self.gpu is not None:
            os.environ["CUDA_VISIBLE_DEVICES"] = self.gpu
        import torch   # after CUDA_VISIBLE_DEVICES: CUDA reads it when it first starts

        if self.threads:
            torch.set_num_threads(self.threads)

        from tlarena.plugins import load_arena
        from tlarena.runner import Runner
        return Runner(load_arena(self.plugins, self.declared), torch.device(self.device),
                      Path(self.data_dir) if self.data_dir else None)


class Isolated:
    """Each spec in a worker process that a crash, ``sys.exit`` or hang of a plugin cannot pass.

    With ``workers`` > 1 that many run side by side, each taking the next spec as it frees (see
    ``_Queue`` for how no source model is trained twice). Each worker sends its run's phases
    through its pipe before the record; ``on_phase`` gets them.
    """

    def __init__(self, device, recipe: RunnerRecipe, timeout: float = DEFAULT_TIMEOUT, workers: int = 1,
                 on_phase: PhaseListener | None = None):
        self.device, self.timeout, self.on_phase = device, timeout, on_phase
        context = start_fork_server()
        self._workers = [_Worker(context, _share(recipe, device, index, workers))
                         for index in range(workers)]

    def results(self, specs: list[RunSpec], start: Callable[[RunSpec], bool]
                ) -> Iterator[tuple[RunSpec, RunRecord, list[str]]]:
        queue = _Queue(specs)
        busy: dict[_Worker, RunSpec] = {}
        while queue or busy:
            for worker in self._workers:
                while worker not in busy:
                    spec = queue.take()
                    if spec is None:
                        break
                    if start(spec):
                        busy[worker] = spec
                        worker.send(spec, self.timeout)
                    else:
                        queue.finished(spec, None)
            if not busy:
                continue
            ready = multiprocessing.connection.wait(
                [w.connection for w in busy],
                timeout=max(0.0, min(w.deadline for w in busy) - time.monotonic()))
            for worker in list(busy):
                if worker.connection in ready:
                    answer = worker.answer()
                    if isinstance(answer, phases.Phase):
                        if self.on_phase:
                            self.on_phase(busy[worker], answer)
                        continue
                    record, problems = answer
                elif time.monotonic() >= worker.deadline:
                    record, problems = worker.expire(self.timeout), []
                else:
                    continue
                if record.environment is None:   # a lost run: the worker said nothing of its machine
                    record.environment = Environment(**environment(self.device))
                spec = busy.pop(worker)
                queue.finished(spec, record)
                yield spec, record, problems

    def close(self) -> None:
        for worker in self._workers:
            worker.close()


class _Queue:
    """The specs left, in grid order, handed out so that no source model is trained twice and no
    worker idles while another could share its work.

    A spec that starts from the shared source model (its budget has ``source_steps``) waits while
    another spec of its source model is the first to run: that one trains the model; once it is
    back, every spec of that model may run on any worker at once. Specs that need no source model
    go at any time. (Before, all specs of one source model went to one worker in turn: a grid of
    few pairs and seeds left workers idle.)
    """

    def __init__(self, specs: list[RunSpec]):
        self.left = list(specs)
        self.training: set[tuple] = set()   # source models whose first spec is running
        self.ready: set[tuple] = set()      # source models trained (or tried) by a finished spec

    def __bool__(self) -> bool:
        return bool(self.left)

    def take(self) -> RunSpec | None:
        """The next spec that may start now; None when every one left waits for a source model."""
        for index, spec in enumerate(self.left):
            model = _source_model(spec)
            if model is None or model in self.ready or model not in self.training:
                if model is not None and model not in self.ready:
                    self.training.add(model)
                return self.left.pop(index)
        return None

    def finished(self, spec: RunSpec, record: RunRecord | None) -> None:
        """``spec`` is back (``record`` None: it was not started; another process has it)."""
        model = _source_model(spec)
        if model is None or model in self.ready:
            return
        self.training.discard(model)
        if record is None or record.status != "n/a":   # an n/a run never got to its source model
            self.ready.add(model)


def _source_model(spec: RunSpec) -> tuple | None:
    """What identifies the source model ``spec`` starts from (None: it starts from none)."""
    if spec.budget.source_steps is None:
        return None
    return spec.pair, spec.seed, spec.backbone, spec.weights, spec.budget.source_steps, spec.budget.batch_size


def _share(recipe: "RunnerRecipe", device, index: int, workers: int) -> "RunnerRecipe":
    """Worker ``index`` of ``workers``: its own GPU where there are several, else a share of the
    CPU cores for torch's threads, unless ``--threads`` named them."""
    if workers == 1:
        return recipe
    if device.type == "cuda" and device.index is None:
        import torch
        return replace(recipe, gpu=str(index % torch.cuda.device_count()))
    return replace(recipe, threads=worker_threads(workers, recipe.threads))


def worker_threads(workers: int, threads: int | None) -> int | None:
    """torch's CPU threads in each of ``workers`` local workers: ``--threads`` where given, else a
    share of the cores (None: one worker keeps torch's default)."""
    if threads or workers == 1:
        return threads
    return max(1, (os.cpu_count() or 1) // workers)


def start_fork_server():
    """The context workers start from: a fork server where the platform has one (else spawn), started
    now if it is not running. Its imports (torch, timm: seconds) then overlap what this process does
    before its first run, instead of following it; `tlarena run` calls this before its own imports."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tlarena.executors", "tlarena.runner", "tlarena.plugins"])
    multiprocessing.forkserver.ensure_running()
    return context


class _Worker:
    """One worker process and the run it was sent; replaced when it dies or hangs."""

    def __init__(self, context, recipe: "RunnerRecipe"):
        self.context, self.recipe = context, recipe
        self.process = self.connection = None
        self.spec, self.started, self.deadline = None, None, float("inf")

    def send(self, spec: RunSpec, timeout: float) -> None:
        if self.process is None or not self.process.is_alive():
            self._start()
        self.spec, self.started, self.deadline = spec, now(), time.monotonic() + timeout
        self.connection.send(json.dumps(spec.to_dict()))

    def answer(self) -> tuple[RunRecord, list[str]] | phases.Phase:
        """The run's record and problems, or one of its phases on the way there."""
        try:
            answer = json.loads(self.connection.recv())
        except (EOFError, OSError):
            self.process.join(timeout=10)
            code = self.process.exitcode
            self._stop()
            return self._lost("failed", _death(code)), []
        if "phase" in answer:
            return phases.Phase.from_dict(answer["phase"])
        return RunRecord.from_dict(answer["record"]), answer["problems"]

    def expire(self, timeout: float) -> RunRecord:
        self._stop()
        return self._lost("timed-out", f"no result after {timeout:g} s (--run-timeout); its worker was stopped")

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.connection.send(None)
            self.process.join(timeout=30)
        self._stop()

    def _start(self) -> None:
        self._stop()
        parent, child = self.context.Pipe()
        recipe = replace(self.recipe, environment=tuple(os.environ.items()))
        self.process = self.context.Process(target=_serve, args=(child, recipe), daemon=True,
                                            name="tlarena-worker")
        self.process.start()
        child.close()
        self.connection = parent

    def _stop(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout=10)
            self.connection.close()
        self.process = self.connection = None
        self.deadline = float("inf")

    def _lost(self, status: str, reason: str) -> RunRecord:
        return lost_record(self.spec, self.started, status, reason)


def _serve(connection, recipe: RunnerRecipe) -> None:
    """The worker: run each spec it is sent, answer with its record, until told to stop."""
    _exit_with_parent()
    phases.listen(lambda phase: connection.send(json.dumps({"phase": phase.to_dict()})))
    runner = recipe.build()
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        connection.send(reply(runner, message))


def _exit_with_parent() -> None:
    """A worker whose parent was killed stops at once, instead of training on unobserved."""
    parent = multiprocessing.parent_process()

    def watch():
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="tlarena-parent-watch").start()


def lost_record(spec: RunSpec, started: str, status: str, reason: str) -> RunRecord:
    """The record of a run whose worker gave none (it died, hung or was lost): what is known of it."""
    record = RunRecord(spec, status, reason)
    record.started_at, record.finished_at = started, now()
    return record


class Lost(Exception):
    """A run sent elsewhere ended without an answer; the message says how. It is sent again when
    ``retry`` (its process or node was lost), else recorded with ``status`` (failed, timed-out)."""

    def __init__(self, reason: str, status: str = "failed", retry: bool = True):
        super().__init__(reason)
        self.status, self.retry = status, retry


@dataclass
class _Flight:
    spec: RunSpec
    started: str
    deadline: float
    attempts: int = 1


class Remote:
    """The loop of executors that send each run elsewhere (a Ray task, a SLURM job), answered by
    ``run_remote``: at most ``slots()`` runs in flight, each claimed only as it is sent; a run silent
    for ``timeout`` seconds is cancelled and recorded as timed-out; one that ends without an answer
    is sent again up to ``retries`` times, then recorded as failed. A subclass says how to send
    (``submit``), wait, ``collect`` an answer and ``cancel``; what it sends is called ``unit``.
    """

    unit = "job"
    retries = 0

    def __init__(self, device, timeout: float = DEFAULT_TIMEOUT):
        self.device, self.timeout = device, timeout

    def slots(self) -> int:
        raise NotImplementedError

    def submit(self, spec: str) -> Any:
        """Send one run (its spec as JSON) to be answered by ``run_remote``; a handle to it."""
        raise NotImplementedError

    def wait(self, handles: list, timeout: float) -> list:
        """The handles among ``handles`` whose runs have ended, waiting up to ``timeout`` seconds for one."""
        raise NotImplementedError

    def collect(self, handle) -> str:
        """The answer of an ended run; ``Lost`` when it ended without one."""
        raise NotImplementedError

    def cancel(self, handle) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def results(self, specs: list[RunSpec], start: Callable[[RunSpec], bool]
                ) -> Iterator[tuple[RunSpec, RunRecord, list[str]]]:
        waiting, running = iter(specs), {}
        while True:
            while len(running) < self.slots():
                spec = next((s for s in waiting if start(s)), None)
                if spec is None:
                    break
                running[self.submit(json.dumps(spec.to_dict()))] = _Flight(
                    spec, now(), time.monotonic() + self.timeout)
            if not running:
                return
            deadline = min(flight.deadline for flight in running.values())
            for handle in self.wait(list(running), max(0.0, deadline - time.monotonic())):
                flight = running.pop(handle)
                try:
                    reply = json.loads(self.collect(handle))
                except Lost as lost:
                    if lost.retry and flight.attempts <= self.retries:
                        flight.attempts += 1
                        flight.deadline = time.monotonic() + self.timeout
                        running[self.submit(json.dumps(flight.spec.to_dict()))] = flight
                        continue
                    tries = f" (tried {flight.attempts} times)" if flight.attempts > 1 else ""
                    yield flight.spec, self._lost(flight, lost.status, f"{lost}{tries}"), []
                    continue
                yield flight.spec, RunRecord.from_dict(reply["record"]), reply["problems"]
            for handle, flight in list(running.items()):
                if flight.deadline <= time.monotonic():
                    del running[handle]
                    self.cancel(handle)
                    yield flight.spec, self._lost(flight, "timed-out", (
                        f"no result after {self.timeout:g} s (--run-timeout); its {self.unit} was cancelled")), []

    def _lost(self, flight: _Flight, status: str, reason: str) -> RunRecord:
        record = lost_record(flight.spec, flight.started, status, reason)
        record.environment = Environment(**environment(self.device))
        return record


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        return f"its worker process was killed by signal {-code} (a crash in native code, or out of memory)"
    return (f"its worker process exited with code {code} before recording it "
            f"(the method or a plugin called sys.exit or os._exit)")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
