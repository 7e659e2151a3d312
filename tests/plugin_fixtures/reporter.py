"""A reporter plugin: writes one line per finished run, as a logger would."""
import os

import tlarena


@tlarena.hookimpl
def run_finished(record):
    with open(os.environ["REPORTER_LOG"], "a") as log:
        log.write(f"{record.spec.method} {record.status}\n")
