"""The suite's own set-up: under pytest-xdist (pyproject's addopts) the workers do not oversubscribe
the cores."""
import os

import pytest
import torch


@pytest.mark.skipif("PYTEST_XDIST_WORKER_COUNT" not in os.environ,
                    reason="this run is in one process (-n 0), not on pytest-xdist workers")
def test_each_worker_runs_torch_on_its_share_of_the_cores():
    # Regression: each worker's torch took every core, so two workers ran 4 threads on 2 cores.
    workers, cores = int(os.environ["PYTEST_XDIST_WORKER_COUNT"]), os.cpu_count() or 1
    threads = torch.get_num_threads()

    assert threads == int(os.environ["OMP_NUM_THREADS"]), "the processes a test starts inherit it"
    assert threads * workers <= max(cores, workers), f"{workers} workers × {threads} threads on {cores} cores"
