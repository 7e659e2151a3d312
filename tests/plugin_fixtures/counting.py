"""Counts what work is done, in every process: each run started and each source model trained.

Appends one line per event to $COUNTING_LOG (O_APPEND: lines of processes writing at once never
mix): ``run KEY PID`` when a run starts, ``source DIGEST PID`` when a source model starts training.
"""
import os

import tlarena
from tlarena.runner import Runner
from tlarena.source_models import SourceModels


def _log(line: str) -> None:
    # Loaded by an in-process `tlarena --plugin counting`, the patch outlives its test: count only
    # while a test asks for it.
    if "COUNTING_LOG" not in os.environ:
        return
    with open(os.environ["COUNTING_LOG"], "a") as log:
        log.write(f"{line} {os.getpid()}\n")


def _counted(function, describe):
    def wrapper(self, *args, **kwargs):
        _log(describe(*args))
        return function(self, *args, **kwargs)
    return wrapper


if not getattr(Runner.execute, "counted", False):
    Runner.execute = _counted(Runner.execute, lambda spec: f"run {spec.key}")
    SourceModels._train = _counted(SourceModels._train, lambda key, *rest: f"source {key.digest}")
    Runner.execute.counted = True


@tlarena.hookimpl
def run_finished(record):
    """Nothing to report: a plugin needs one hook to load."""
