"""The exit statuses of `tlarena`, for scripts and CI: each one's meaning, decided in one place."""
from __future__ import annotations

from collections import Counter

OK = 0
RUNS_LOST = 1      # a run of this invocation failed or timed out
USAGE = 2          # a mistake found before any work: option, name, plugin, data
INTERRUPTED = 130  # Ctrl+C (every finished run is recorded)
OUTPUT_CLOSED = 141  # stdout's reader left early (`| head`): what a shell reports for a tool SIGPIPE ended

LOST = ("failed", "timed-out")

HELP = """exit status:
  0    every run of this invocation is ok, n/a (cannot apply) or was recorded
       before
  1    a run of this invocation failed or timed out (its record says why); with
       --strict also a run that diverged, or a warning: a plugin that reported
       a problem, a reporter that raised
  2    a usage error, found before any run: a bad option, an unknown method,
       pair, suite, backbone or --plugin module, a --report whose package is
       missing; with --strict also a plugin that failed to load or registered
       something invalid
  130  interrupted; every finished run is recorded
  141  the output's reader left before it ended (| head); every finished run
       is recorded"""


def of_grid(statuses: Counter, warnings: int, strict: bool) -> int:
    """The exit status of a grid whose runs ended with ``statuses`` (run_grid's, counted) after
    ``warnings`` warnings."""
    lost = sum(statuses[status] for status in LOST)
    if strict:
        lost += statuses["diverged"] + warnings
    return RUNS_LOST if lost else OK
