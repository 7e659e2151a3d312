"""Exit statuses for CI: 1 when a run of the invocation failed or timed out, 2 for a mistake found
before any run, 141 when the output's reader left, and --strict for diverged runs, warnings and
plugin problems."""
import json
import os
import subprocess
import sys

import pytest
from conftest import PLUGIN_FIXTURES, ROOT

from tlarena.records import RunRecord

GRID = ["--methods", "fine-tune,scratch", "--pairs", "uci-digits->uci-digits-rotated", "--settings", "supervised",
        "--seeds", "0"]


@pytest.fixture
def runs_end(monkeypatch):
    """The grid's runs end with the given statuses (and a reporter's problem, if given), at once."""
    from tlarena.executors import Isolated

    def end(*statuses, problem=None):
        def results(self, specs, start):
            for spec, status in zip(specs, statuses, strict=True):
                if start(spec):
                    yield spec, RunRecord(spec, status, f"{status} on purpose"), [problem] if problem else []

        monkeypatch.setattr(Isolated, "results", results)

    return end


def test_a_grid_with_one_failed_run_exits_1(cli, tmp_path, runs_end):
    # regression: it exited 0 unless every run failed
    runs_end("failed", "diverged")
    assert cli("run", *GRID, "--results", str(tmp_path / "r")).code == 1


def test_a_timed_out_run_exits_1(cli, tmp_path, runs_end):
    runs_end("timed-out", "n/a")
    assert cli("run", *GRID, "--results", str(tmp_path / "r")).code == 1


@pytest.mark.parametrize("strict, code", [(False, 0), (True, 1)])
def test_a_diverged_run_fails_the_grid_only_under_strict(cli, tmp_path, runs_end, strict, code):
    runs_end("diverged", "n/a")
    assert cli("run", *GRID, *(["--strict"] if strict else []), "--results", str(tmp_path / "r")).code == code


@pytest.mark.parametrize("strict, code", [(False, 0), (True, 1)])
def test_a_reporter_that_raised_fails_the_grid_only_under_strict(cli, tmp_path, runs_end, strict, code):
    runs_end("n/a", "n/a", problem="plugin 'logger' failed in run_finished: OSError('disk full')")
    result = cli("run", *GRID, *(["--strict"] if strict else []), "--results", str(tmp_path / "r"))
    assert (result.code, result.out.count("warning: plugin 'logger' failed")) == (code, 2)


def test_a_misspelled_plugin_module_is_a_usage_error(cli, tmp_path):
    # regression: a warning, and exit 0 with the plugin silently absent
    result = cli("--plugin", "raise_at_imprt", "list", "methods", cwd=PLUGIN_FIXTURES)
    assert (result.code, result.err.strip().splitlines()) == (2, [
        f"tlarena: error: --plugin raise_at_imprt: no module named 'raise_at_imprt' in {PLUGIN_FIXTURES} or "
        f"the installed packages. Did you mean 'raise_at_import'?"])


def test_strict_refuses_a_broken_plugin_before_any_run(cli, tmp_path, runs_end):
    runs_end()   # no run may start: zip(strict=True) fails on a started one
    result = cli("--plugin", "raise_at_import", "run", *GRID, "--strict", "--results", str(tmp_path / "r"),
                 cwd=PLUGIN_FIXTURES)
    assert (result.code, "failed to load: RuntimeError" in result.err, (tmp_path / "r").exists()) == (2, True, False)


def test_run_help_documents_every_exit_status(cli, capsys):
    with pytest.raises(SystemExit):
        cli("run", "--help")
    out = capsys.readouterr().out
    assert all(f"\n  {code} " in out for code in (0, 1, 2, 130, 141))


def test_the_run_header_and_failure_reasons_wrap_at_80_columns_with_no_trailing_blanks(tmp_path, monkeypatch, capsys):
    # Regression: rich wrapped them at 80 columns leaving a blank at the end of every broken line,
    # and the header read "1 methods × 1 pairs × 1 settings × 1 seeds".
    import sys

    from rich.console import Console

    from tlarena import commands
    from tlarena.cli import main
    from tlarena.executors import Isolated

    reason = ("BuildFailed: built dataset 'broken-builders-test-labels-shifted': its test split has labels "
              "[10, 11, 12], which are not ids of its 10 classes (0 to 9)")

    def results(self, specs, start):
        for spec in specs:
            if start(spec):
                yield spec, RunRecord(spec, "failed", reason), []

    monkeypatch.setattr(Isolated, "results", results)
    monkeypatch.setattr(commands, "console", Console(file=sys.stdout, width=80, color_system=None))
    monkeypatch.setattr(commands, "errors", Console(file=sys.stderr, width=80, color_system=None))
    code = main(["run", "--methods", "fine-tune", "--pairs", "uci-digits->uci-digits-rotated", "--settings",
                 "supervised", "--seeds", "0", "--results", str(tmp_path / "results")])
    out, err = capsys.readouterr()

    header, failure = out[:out.index("[1/1]")], err[err.index("1 run failed:"):]
    assert code == 1 and "tlarena: 1 run (1 method × 1 pair × 1 setting × 1 seed)" in " ".join(header.split())
    assert " ".join(failure.split()).startswith(f"1 run failed: {reason} (each run's record under")
    lines = (header + failure).splitlines()
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines), lines


def _reader_gone(args, tmp_path, lines=0):
    """`tlarena ARGS | head -LINES`: the reader takes ``lines`` lines, then leaves. Returns the exit
    status and stderr."""
    env = {**os.environ, "TLARENA_CACHE": str(tmp_path / "cache")}
    with subprocess.Popen([sys.executable, "-m", "tlarena", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, text=True) as process:
        for _ in range(lines):
            process.stdout.readline()
        process.stdout.close()
        return process.wait(timeout=300), process.stderr.read()


@pytest.mark.parametrize("args", [["show", "--format", "csv"], ["show"], ["list", "methods"]],
                         ids=["plain write", "rich table", "rich list"])
def test_a_reader_that_leaves_ends_the_command_quietly_with_141(args, tmp_path):
    # `show --format csv | head` printed a BrokenPipeError traceback; rich's output exited 1
    code, err = _reader_gone([*args, "--results", str(ROOT / "results")] if args[0] == "show" else args, tmp_path)

    assert (code, err) == (141, "")


def test_a_grid_whose_reader_leaves_stops_with_141_and_records_no_run_as_failed(tmp_path):
    # in this process the first run's phase lines are printed inside the runner, which records what
    # it raises as the run's failure: the closed pipe must get past it
    results = tmp_path / "results"
    code, err = _reader_gone(["run", *GRID, "--in-process", "--steps", "5", "--source-steps", "5",
                              "--results", str(results)], tmp_path, lines=2)

    statuses = [json.loads(path.read_text())["status"] for path in results.glob("*.json")]
    assert (code, err, "failed" in statuses) == (141, "", False)
