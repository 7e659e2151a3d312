"""Runs as Ray tasks: ``tlarena run --executor ray [--address ADDRESS]``.

Each run is one task asking for one GPU when the grid runs on CUDA, else one CPU. A task whose
worker process or node dies is retried (``max_retries``); one that raises is not (the runner
records a raising run as failed itself). At most as many tasks are in flight as the cluster has
GPUs (or CPUs), so each run is claimed only when it can start and other ``tlarena run`` processes
share the grid. This process writes every record; workers need the plugins installed and, on
several machines, ``TLARENA_CACHE`` on a shared filesystem so that source models are trained once.

Ray is an optional dependency (``pip install tlarena[ray]``), imported only here.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Callable, Iterator

from tlarena.environment import environment
from tlarena.executors import DEFAULT_TIMEOUT, RunnerRecipe, execute, now
from tlarena.records import Environment, RunRecord
from tlarena.spec import RunSpec
from tlarena.usage import UsageError

MAX_RETRIES = 3   # times a run is started again after its worker died


class RayExecutor:
    """Each spec a Ray task, on the cluster at ``address`` (None: the one ``ray.init`` finds or starts;
    an already initialized Ray is used as it is)."""

    def __init__(self, device, recipe: RunnerRecipe, address: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_retries: int = MAX_RETRIES):
        try:
            import ray
        except ImportError:
            raise UsageError("--executor ray needs Ray: pip install 'tlarena[ray]'") from None
        self.ray, self.device, self.timeout = ray, device, timeout
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False)
        self.gpu = device.type == "cuda"
        # Ray gives each GPU task its own CUDA_VISIBLE_DEVICES: the worker's device is its first one.
        self.recipe = replace(recipe, device="cuda" if self.gpu else recipe.device)
        self.task = ray.remote(_run).options(num_gpus=1 if self.gpu else 0, num_cpus=0 if self.gpu else 1,
                                             max_retries=max_retries, retry_exceptions=False)

    def results(self, specs: list[RunSpec], start: Callable[[RunSpec], bool]
                ) -> Iterator[tuple[RunSpec, RunRecord, list[str]]]:
        ray, waiting = self.ray, iter(specs)
        slots = max(1, int(ray.cluster_resources().get("GPU" if self.gpu else "CPU", 1)))
        running: dict = {}   # task ref → (spec, started, deadline)
        while True:
            while len(running) < slots:
                spec = next((s for s in waiting if start(s)), None)
                if spec is None:
                    break
                ref = self.task.remote(self.recipe, json.dumps(spec.to_dict()))
                running[ref] = (spec, now(), time.monotonic() + self.timeout)
            if not running:
                return
            deadline = min(d for _, _, d in running.values())
            ready, _ = ray.wait(list(running), num_returns=1, timeout=max(0.0, deadline - time.monotonic()))
            for ref in ready or [r for r, (_, _, d) in running.items() if d <= time.monotonic()]:
                spec, started, _ = running.pop(ref)
                record, problems = self._answer(ref, spec, started, bool(ready))
                if record.environment is None:
                    record.environment = Environment(**environment(self.device))
                yield spec, record, problems

    def _answer(self, ref, spec: RunSpec, started: str, finished: bool) -> tuple[RunRecord, list[str]]:
        if not finished:
            self.ray.cancel(ref, force=True)
            return _lost(spec, started, "timed-out", f"no result after {self.timeout:g} s (--run-timeout); "
                                                     f"its Ray task was cancelled"), []
        try:
            answer = json.loads(self.ray.get(ref))
        except self.ray.exceptions.RayError as error:
            reason = f"its Ray task failed after {MAX_RETRIES} retries: {type(error).__name__}: {error}"
            return _lost(spec, started, "failed", reason.splitlines()[0]), []
        return RunRecord.from_dict(answer["record"]), answer["problems"]

    def close(self) -> None:
        pass   # a Ray this process started ends with it; one it joined goes on serving


def _lost(spec: RunSpec, started: str, status: str, reason: str) -> RunRecord:
    record = RunRecord(spec, status, reason)
    record.started_at, record.finished_at = started, now()
    return record


_runners: dict = {}   # per Ray worker process: the runner of each recipe, so decoded data is reused


def _run(recipe: RunnerRecipe, spec: str) -> str:
    """The task: one run in a Ray worker, its record and the plugins' problems as JSON."""
    if recipe not in _runners:
        _runners[recipe] = recipe.build()
    record, problems = execute(_runners[recipe], RunSpec.from_dict(json.loads(spec)))
    return json.dumps({"record": record.to_dict(), "problems": problems})
