"""The built-in executors, registered through the plugin contract like any other executor.

``local`` runs each run in a worker process of this machine (``--workers N`` side by side;
``--in-process`` in this process, for debuggers); ``ray`` sends each to a Ray cluster. A plugin
adds more the same way (the ``slurm`` executor of ``tlarena_plugins.slurm``).
"""
from __future__ import annotations

from pathlib import Path

import tlarena
from tlarena.executors import ExecutorRequest, ExecutorType, InProcess, Isolated


def _local(request: ExecutorRequest):
    if request.in_process:
        from tlarena.runner import Runner

        data_dir = request.recipe.data_dir
        return InProcess(Runner(request.arena, request.device, Path(data_dir) if data_dir else None),
                         request.on_phase)
    return Isolated(request.device, request.recipe, request.timeout, request.workers, request.on_phase)


def _ray(request: ExecutorRequest):
    if request.in_process or request.workers > 1:
        raise ValueError("--executor ray runs as many runs at once as the cluster has room for; "
                         "--workers and --in-process are for --executor local")
    from tlarena.ray_executor import RayExecutor   # Ray is optional: imported only when asked for

    return RayExecutor(request.device, request.recipe, request.options.get("address"), request.timeout)


@tlarena.hookimpl
def register_executors(register):
    register(ExecutorType("local", _local, "worker processes on this machine (--workers N, --in-process)"))
    register(ExecutorType("ray", _ray, "each run a task on a Ray cluster (pip install 'tlarena[ray]')",
                          {"address": "the cluster to join, as ray.init takes it (default: the one "
                                      "ray.init finds, else a local one); --address is the same"}))
