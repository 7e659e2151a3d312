"""A broken plugin, a failing step, a NaN loss or a corrupt record never takes the grid down."""
import json

from conftest import PLUGIN_FIXTURES, TINY

from tlarena.records import read_records

PAIR = "uci-digits->uci-digits-rotated"


def test_plugin_that_raises_at_import_is_named_and_the_rest_works(cli):
    result = cli("--plugin", "raise_at_import", "list", "methods", cwd=PLUGIN_FIXTURES)
    assert result.code == 0
    assert "plugin 'raise_at_import' (--plugin): failed to load: RuntimeError: this plugin is broken on purpose" in result.err
    assert "fine-tune" in result.out


def test_duplicate_and_invalid_registrations_name_their_origins(cli):
    result = cli("--plugin", "duplicate_method", "list", "plugins", cwd=PLUGIN_FIXTURES)
    assert "method 'fine-tune' from plugin 'duplicate_method' (--plugin) is already registered by " \
           "plugin 'parameter-transfer' (built-in)" in result.err
    assert "method NoPaper lacks paper" in result.err


def test_failing_step_and_nan_loss_are_recorded_and_the_grid_goes_on(cli, tmp_path):
    results = tmp_path / "results"
    result = cli("--plugin", "faulty_methods", "run", "--methods", "raises-in-step,nan-loss,fine-tune",
                 "--pairs", PAIR, "--settings", "supervised", "--results", str(results), *TINY,
                 cwd=PLUGIN_FIXTURES)
    records = {r.spec.method: r for r in read_records(results)[0]}
    assert result.code == 1   # a run failed: CI must see it
    assert (records["raises-in-step"].status, records["nan-loss"].status, records["fine-tune"].status) \
        == ("failed", "diverged", "ok")
    assert "training step exploded" in records["raises-in-step"].traceback
    assert records["nan-loss"].reason.startswith("non-finite loss")


def test_corrupt_record_is_named_skipped_and_its_run_done_again(cli, tmp_path):
    results = tmp_path / "results"
    args = ("run", "--methods", "fine-tune,scratch", "--pairs", PAIR, "--settings", "supervised",
            "--results", str(results), *TINY)
    cli(*args)
    corrupt, intact = sorted(results.glob("*.json"))
    intact_before = intact.read_text()
    corrupt.write_text('{"schema": 1, "key": "trunc')

    shown = cli("show", "--results", str(results))
    assert f"skipped corrupt record {corrupt}" in shown.err and shown.code == 0

    cli(*args)
    assert intact.read_text() == intact_before and json.loads(corrupt.read_text())["status"] == "ok"


def test_a_method_that_exits_crashes_or_hangs_fails_its_run_and_the_grid_goes_on(cli, tmp_path):
    # Regression: sys.exit(3) in a step ended the whole grid with no record, and a hang never ended.
    results = tmp_path / "results"
    args = ("--plugin", "faulty_methods", "run", "--methods", "exits-in-step,crashes-in-step,hangs-in-step,fine-tune",
            "--pairs", PAIR, "--settings", "supervised", "--results", str(results), "--run-timeout", "20", *TINY)
    result = cli(*args, cwd=PLUGIN_FIXTURES)
    records = {r.spec.method: r for r in read_records(results)[0]}
    assert result.code == 1, result.err   # runs failed and one timed out
    assert records["fine-tune"].status == "ok"
    assert records["exits-in-step"].status == "failed"
    assert "exited with code 3" in records["exits-in-step"].reason
    assert records["crashes-in-step"].status == "failed"
    assert "killed by signal 11" in records["crashes-in-step"].reason
    assert records["hangs-in-step"].status == "timed-out"
    assert "no result after 20 s" in records["hangs-in-step"].reason
    assert records["hangs-in-step"].environment is not None


def test_failed_runs_are_tried_again_unless_told_not_to(cli, tmp_path):
    results = tmp_path / "results"
    args = ("--plugin", "faulty_methods", "run", "--methods", "raises-in-step,fine-tune", "--pairs", PAIR,
            "--settings", "supervised", "--results", str(results), *TINY)
    cli(*args, cwd=PLUGIN_FIXTURES)
    stamps = {p.name: p.stat().st_mtime_ns for p in results.glob("*.json")}
    kept = cli(*args, "--no-retry", cwd=PLUGIN_FIXTURES)
    assert "2 recorded" in kept.out
    assert stamps == {p.name: p.stat().st_mtime_ns for p in results.glob("*.json")}
    again = cli(*args, cwd=PLUGIN_FIXTURES)
    assert "1 failed, 1 recorded" in again.out
    changed = [name for name, stamp in stamps.items() if (results / name).stat().st_mtime_ns != stamp]
    assert len(changed) == 1
