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


def test_a_built_target_that_is_not_what_it_promises_fails_its_runs_with_the_reason(cli, tmp_path):
    # Regression: a UDA target whose test labels lay outside its classes was recorded ok at top-1 0,
    # an empty test split was cached and broke every later load, and a builder that raised took a
    # few-shot grid down with a traceback before any record was written.
    results = tmp_path / "results"
    pairs = ",".join(f"broken-builders-sound->broken-builders-{name}"
                     for name in ("raises", "test-labels-shifted", "empty-test"))
    result = cli("--plugin", "broken_builders", "run", "--methods", "source-only,fine-tune", "--pairs", pairs,
                 "--settings", "uda,few-shot", "--results", str(results), *TINY, cwd=PLUGIN_FIXTURES)
    records = [r for r in read_records(results)[0] if r.status != "n/a"]
    assert result.code == 1 and "Traceback" not in result.err
    assert len(records) == 6 and {r.status for r in records} == {"failed"}
    assert {r.reason for r in records} == {
        "BuildFailed: built dataset 'broken-builders-raises': its builder raised RuntimeError: the builder "
        "exploded on purpose",
        "BuildFailed: built dataset 'broken-builders-test-labels-shifted': its test split has labels "
        "[10, 11, 12], which are not ids of its 10 classes (0 to 9)",
        "BuildFailed: built dataset 'broken-builders-empty-test': its test split is empty"}


def test_listing_a_suite_whose_builder_fails_says_why_in_its_row(cli):
    result = cli("--plugin", "broken_builders", "list", "pairs", "--suite", "broken-builders", cwd=PLUGIN_FIXTURES)
    assert result.code == 0, result.err
    assert "build failed: its test split is empty" in " ".join(result.out.split())
    assert "build failed: its builder raised RuntimeError" in " ".join(result.out.split())


def test_a_build_failure_pickles_back_whole_from_a_worker():
    import pickle

    from tlarena.data import BuildFailed

    again = pickle.loads(pickle.dumps(BuildFailed("broken-builders-empty-test", "its test split is empty")))
    assert str(again) == "built dataset 'broken-builders-empty-test': its test split is empty"
    assert again.problem == "its test split is empty"


def test_a_method_whose_hyperparameters_a_record_cannot_hold_is_a_plugin_problem_not_a_crash(cli, tmp_path):
    # Regression: a numpy float or a list among a plugin's hyperparameters stopped every grid with
    # a TypeError traceback at its first spec, as a search space it could not draw from stopped
    # every grid with --hparam-samples; a rate given as text failed each run.
    results = tmp_path / "results"
    ran = cli("--plugin", "odd_hparams", "run", "--all", "--pairs", PAIR, "--settings", "supervised",
              "--hparam-samples", "2", "--results", str(results), "--dry-run", *TINY, cwd=PLUGIN_FIXTURES)

    problems = " ".join(ran.err.split())   # each plugin problem, a warning before the grid
    assert "method 'numpy-rate': hyperparameter lr = np.float32(0.01) is a float32" in problems
    assert "method 'text-rate': hyperparameter lr = '0.01' must be a number" in problems
    assert "method 'list-widths': hyperparameter widths = [64, 32] is a list" in problems
    assert "method 'log-from-zero': search_space['lr'] = ('log', 0, 0.1) needs low > 0" in problems
    assert "method 'no-choices': search_space['lr'] = [] needs plain choices, at least one" in problems
    assert "method 'draws-what-it-lacks': search_space['beta'] = ('uniform', 0.1, 0.9) draws a hyperparameter " \
           "the method does not have (lr, weight_decay)" in problems
    planned = {row.split("│")[1].strip() for row in ran.out[ran.out.index("by method"):].splitlines()[3:]
               if row.count("│") > 2}
    assert ran.code == 0 and "fine-tune" in planned and not planned & {
        "numpy-rate", "text-rate", "list-widths", "log-from-zero", "no-choices", "draws-what-it-lacks"}


def test_a_backbone_without_a_timm_model_or_with_unknown_weights_is_a_plugin_problem(cli):
    # Regression: weights="sometimes" trained from random weights without a word, and a model timm
    # does not know failed every run of the grid instead of being named once.
    listed = cli("--plugin", "odd_backbones", "list", "backbones", cwd=PLUGIN_FIXTURES)
    problems = " ".join(listed.err.split())
    assert "backbone 'ghost': timm has no model 'no_such_timm_model'" in problems
    assert "backbone 'lenet-sometimes-pretrained': weights must be hub, none or file:PATH, not 'sometimes'" in problems
    assert listed.code == 0 and "ghost" not in listed.out and "lenet-sometimes-pretrained" not in listed.out
