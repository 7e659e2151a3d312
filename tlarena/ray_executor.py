"""Runs as Ray tasks: ``tlarena run --executor ray [--executor-option address=ADDRESS]``.

Each run is one task asking for one GPU when the grid runs on CUDA, else one CPU. A task whose
worker process or node dies is retried (``max_retries``); one that raises is not (the runner
records a raising run as failed itself). At most as many tasks are in flight as the cluster has
GPUs (or CPUs), so each run is claimed only when it can start and other ``tlarena run`` processes
share the grid. This process writes every record; workers need the plugins installed and, on
several machines, ``TLARENA_CACHE`` on a shared filesystem so that source models are trained once.

Ray is an optional dependency (``pip install tlarena[ray]``), imported only here.
"""
from __future__ import annotations

from dataclasses import replace

from tlarena.executors import DEFAULT_TIMEOUT, Lost, Remote, RunnerRecipe, run_remote

MAX_RETRIES = 3   # times a run is started again after its worker died


class RayExecutor(Remote):
    """Each spec a Ray task, on the cluster at ``address`` (None: the one ``ray.init`` finds or starts;
    an already initialized Ray is used as it is)."""

    unit = "Ray task"

    def __init__(self, device, recipe: RunnerRecipe, address: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_retries: int = MAX_RETRIES):
        try:
            import ray
        except ImportError:
            raise ValueError("--executor ray needs Ray: pip install 'tlarena[ray]'") from None
        super().__init__(device, timeout)
        self.ray, self.max_retries = ray, max_retries
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False)
        self.gpu = device.type == "cuda"
        # Ray gives each GPU task its own CUDA_VISIBLE_DEVICES: the worker's device is its first one.
        self.recipe = replace(recipe, device="cuda" if self.gpu else recipe.device)
        self.task = ray.remote(run_remote).options(num_gpus=1 if self.gpu else 0, num_cpus=0 if self.gpu else 1,
                                                   max_retries=max_retries, retry_exceptions=False)

    def slots(self) -> int:
        return max(1, int(self.ray.cluster_resources().get("GPU" if self.gpu else "CPU", 1)))

    def submit(self, spec: str):
        return self.task.remote(self.recipe, spec)

    def wait(self, handles: list, timeout: float) -> list:
        return self.ray.wait(handles, num_returns=1, timeout=timeout)[0]

    def collect(self, handle) -> str:
        try:
            return self.ray.get(handle)
        except self.ray.exceptions.RayError as error:
            reason = f"its Ray task failed after {self.max_retries} retries: {type(error).__name__}: {error}"
            raise Lost(reason.splitlines()[0]) from None

    def cancel(self, handle) -> None:
        self.ray.cancel(handle, force=True)

    def close(self) -> None:
        pass   # a Ray this process started ends with it; one it joined goes on serving
