"""A reporter that fails on every record, as a logger whose server is down would."""
import tlarena


@tlarena.hookimpl
def run_finished(record):
    raise ConnectionError("log server unreachable")
