"""The ``slurm`` executor: each run a SLURM job, submitted through submitit.

``tlarena run --all --executor slurm --executor-option partition=gpu --executor-option gpus=1``

submitit pickles each call into ``folder`` (on the shared filesystem the jobs see), ``sbatch``es it
and reads the answer back; this process claims each run as its job is submitted, writes every
record and shows the progress of the whole grid. A job that ends without an answer (its node lost,
preempted, out of memory) is submitted again up to ``retries`` times; one that reaches its time
limit is recorded as timed-out. Jobs need the plugins installed and ``TLARENA_CACHE`` on a shared
filesystem, so each source model is trained once (by the first job that needs it; the others wait).

``cluster=local`` runs the jobs as processes of this machine (submitit's ``LocalExecutor``): the
same code path without a cluster, to try a set-up. submitit is optional (``pip install
'tlarena[slurm]'``) and imported only when the executor is created.
"""
from __future__ import annotations

import dataclasses
import math
import shutil
import time

import tlarena

OPTIONS = {
    "partition": "the SLURM partition (sbatch --partition)",
    "time": "minutes a job may run (sbatch --time; default: --run-timeout plus 10 for start-up)",
    "gpus": "GPUs per job (default: 1 when the grid runs on CUDA, else 0); with 1 or more runs use CUDA",
    "cpus": "CPU cores per job, and torch's threads in it (default: the cluster's)",
    "mem": "memory per job in GB (sbatch --mem)",
    "account": "the account charged (sbatch --account)",
    "qos": "the quality of service (sbatch --qos)",
    "constraint": "node features required (sbatch --constraint)",
    "jobs": "jobs submitted at once (default: 64; 1 with cluster=local); each run is claimed as its "
            "job is submitted",
    "retries": "times a job that ended without a record is submitted again (default: 2)",
    "folder": "where submitit keeps each job's pickles and logs (default: tlarena-slurm/%j)",
    "cluster": "slurm (default), or local: the jobs as processes of this machine",
}
_WHOLE = ("time", "gpus", "cpus", "jobs", "retries")
_SBATCH = {"partition": "slurm_partition", "account": "slurm_account", "qos": "slurm_qos",
           "constraint": "slurm_constraint"}
POLL = 1.0   # seconds between looks at the jobs in flight (submitit caches sacct between them)


class SlurmExecutor(tlarena.Remote):
    """Each run one job of a submitit executor (``AutoExecutor``, for ``cluster``)."""

    unit = "SLURM job"

    def __init__(self, request: tlarena.ExecutorRequest):
        options = _parse(request.options)
        cluster = options.get("cluster", "slurm")
        if cluster not in ("slurm", "local"):
            raise ValueError(f"--executor-option cluster takes slurm or local, not {cluster!r}")
        if cluster == "slurm" and shutil.which("sbatch") is None:
            raise ValueError("--executor slurm: no sbatch on this machine; run from a SLURM login node, "
                             "or try the set-up here with --executor-option cluster=local")
        try:
            import submitit
        except ImportError:
            raise ValueError("--executor slurm needs submitit: pip install 'tlarena[slurm]'") from None
        # The job's own time limit stops a hung run; this process does not count queueing time.
        super().__init__(request.device, math.inf)
        self.retries = options.get("retries", 2)
        self._slots = options.get("jobs", 64 if cluster == "slurm" else 1)
        gpus = options.get("gpus", 1 if request.device.type == "cuda" else 0)
        device = "cuda" if gpus else ("cpu" if request.device.type == "cuda" else str(request.device))
        self.recipe = dataclasses.replace(request.recipe, device=device,
                                          threads=options.get("cpus") or request.recipe.threads)
        self.executor = submitit.AutoExecutor(folder=options.get("folder", "tlarena-slurm/%j"), cluster=cluster)
        minutes = options.get("time", math.ceil(request.timeout / 60) + 10)
        self.executor.update_parameters(
            name="tlarena", timeout_min=minutes, gpus_per_node=gpus, cpus_per_task=options.get("cpus"),
            mem_gb=options.get("mem"), **{_SBATCH[key]: options[key] for key in _SBATCH if key in options})
        self.uncompleted = submitit.core.utils.UncompletedJobError
        self.failed = submitit.core.utils.FailedJobError
        self.jobs: set = set()

    def slots(self) -> int:
        return self._slots

    def submit(self, spec: str):
        job = self.executor.submit(tlarena.run_remote, self.recipe, spec)
        self.jobs.add(job)
        return job

    def wait(self, handles: list, timeout: float) -> list:
        end = time.monotonic() + timeout
        while True:
            ended = [job for job in handles if job.done()]
            if ended or time.monotonic() >= end:
                return ended
            time.sleep(min(POLL, max(0.0, end - time.monotonic())))

    def collect(self, job) -> str:
        self.jobs.discard(job)
        try:
            return job.result()
        except self.failed as error:   # run_remote itself raised: the plugins did not load there
            raise tlarena.Lost(f"its SLURM job {job.job_id} failed: {_last_line(error)}", retry=False)
        except self.uncompleted:
            state = job.state
            if state.startswith("TIMEOUT"):
                raise tlarena.Lost(f"its SLURM job {job.job_id} reached its time limit "
                                   f"(--executor-option time)", status="timed-out", retry=False)
            raise tlarena.Lost(f"its SLURM job {job.job_id} ended without a record (state {state}); "
                               f"its log is in {job.paths.stderr}")

    def cancel(self, job) -> None:
        self.jobs.discard(job)
        job.cancel(check=False)

    def close(self) -> None:
        """Cancel the jobs of runs this process will not record (it was interrupted)."""
        for job in list(self.jobs):
            self.cancel(job)


def _parse(options) -> dict:
    parsed = dict(options)
    for key in _WHOLE:
        if key in parsed:
            least = 1 if key in ("time", "cpus", "jobs") else 0
            text = parsed[key]
            parsed[key] = int(text) if text.isdigit() else -1
            if parsed[key] < least:
                raise ValueError(f"--executor-option {key} takes a whole number of at least {least}, not {text!r}")
    if "mem" in parsed:
        try:
            parsed["mem"] = float(parsed["mem"])
        except ValueError:
            raise ValueError(f"--executor-option mem takes gigabytes, e.g. 16, not {options['mem']!r}") from None
    return parsed


def _last_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__


def _create(request: tlarena.ExecutorRequest) -> SlurmExecutor:
    if request.in_process or request.workers > 1:
        raise ValueError("--executor slurm runs --executor-option jobs=N runs at once; "
                         "--workers and --in-process are for --executor local")
    return SlurmExecutor(request)


@tlarena.hookimpl
def register_executors(register):
    register(tlarena.ExecutorType("slurm", _create, "each run a SLURM job, through submitit "
                                                    "(pip install 'tlarena[slurm]')", OPTIONS))
