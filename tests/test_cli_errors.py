"""User mistakes on the command line: one clear line, exit status 2, no traceback."""
import os

import pytest
from tlarena_leaderboard import synthetic


def test_unknown_method_suggests_the_closest_name(cli):
    result = cli("run", "--methods", "fine-tun", "--pairs", "synth-digits->uci-digits")
    assert (result.code, "Did you mean 'fine-tune'" in result.err, "Traceback" in result.err) == (2, True, False)


def test_unknown_pair_suggests_the_closest_name(cli):
    result = cli("run", "--pairs", "synth-digit->uci-digits")
    assert result.code == 2 and "Did you mean 'synth-digits->uci-digits'" in result.err


def test_malformed_pairs_value_says_the_expected_form(cli):
    result = cli("run", "--pairs", "synth-digits>uci-digits")
    assert result.code == 2 and "write SOURCE->TARGET" in result.err and "Traceback" not in result.err


def test_empty_item_in_a_list_is_refused(cli):
    result = cli("run", "--methods", "fine-tune,,scratch", "--all")
    assert result.code == 2 and "empty item" in result.err


@pytest.mark.parametrize("option, value, says", [("--seeds", "0,1,1", "1 more than once"),
                                                 ("--seeds", "0,00", "0 more than once"),
                                                 ("--methods", "dann,scratch,dann", "dann more than once")])
def test_a_name_or_seed_given_twice_is_refused(cli, tmp_path, option, value, says):
    # Regression: the grid announced "8 runs" for --seeds 0,0 and two names twice, then ran one
    result = cli("run", "--all", option, value, "--dry-run", "--results", str(tmp_path / "results"))
    assert result.code == 2 and f"list {value!r} names {says}" in result.err


@pytest.mark.parametrize("seeds", ["0,one", "-1", f"0,{2**32}"])
def test_bad_seeds_are_refused(cli, tmp_path, seeds):
    # Regression: -1 and 2**32 passed, and every run of the grid failed in numpy's seeding.
    result = cli("run", "--all", "--seeds", seeds, "--dry-run", "--results", str(tmp_path / "results"))
    assert result.code == 2 and "--seeds takes whole numbers from 0 to 4294967295" in result.err


def test_unknown_suite_is_refused(cli):
    result = cli("run", "--all", "--suite", "embeded")
    assert result.code == 2 and "Did you mean 'embedded'" in result.err   # (or 'embedded-domains')


@pytest.mark.parametrize("what", ["methods", "suites"])
def test_list_refuses_a_suite_it_would_ignore(cli, what):
    # `list methods --suite digits` listed every method, as if filtered
    result = cli("list", what, "--suite", "digits")
    assert result.code == 2 and "--suite narrows `tlarena list pairs` only" in result.err and not result.out


def test_run_without_a_selection_asks_for_one(cli):
    result = cli("run")
    assert result.code == 2 and "--all" in result.err


@pytest.mark.parametrize("option", ["--weights", "--pretrained"])
def test_bad_weights_are_refused(cli, option):
    result = cli("run", "--all", option, "imagenet")
    assert result.code == 2 and "file:PATH" in result.err


def test_show_without_results_says_how_to_get_them(cli, tmp_path):
    result = cli("show", "--results", str(tmp_path / "nothing"))
    assert result.code == 2 and "tlarena run --all" in result.err


# Checked before any work: one line, exit status 2, no run started and nothing written.
ONE_RUN = ["--methods", "source-only", "--pairs", "uci-digits->uci-digits-rotated", "--seeds", "0"]


@pytest.fixture
def no_runs(monkeypatch):
    """Any run the grid starts fails the test: these mistakes must be refused before the first."""
    from tlarena.executors import InProcess, Isolated

    def started(self, specs, *start):
        raise AssertionError(f"{len(specs)} runs were started")

    monkeypatch.setattr(InProcess, "results", started)
    monkeypatch.setattr(Isolated, "results", started)


def refused(cli, tmp_path, *args: str):
    results = tmp_path / "results"
    result = cli("run", "--results", str(results), *args)
    lines = result.err.strip().splitlines()
    assert (result.code, len(lines), "Traceback" in result.err) == (2, 1, False), result.err
    assert lines[0].startswith("tlarena: error: ") and not results.exists()
    return lines[0]


@pytest.mark.parametrize("option", ["--steps", "--source-steps", "--batch-size", "--eval-points", "--shots"])
def test_a_budget_below_one_is_refused(cli, tmp_path, no_runs, option):
    # regression: --steps 0 ran the grid
    assert f"{option} must be at least 1, not 0" in refused(cli, tmp_path, *ONE_RUN, option, "0")


@pytest.mark.parametrize("option", ["--methods", "--pairs", "--settings"])
def test_an_empty_selection_is_refused_not_widened_to_the_suite(cli, tmp_path, no_runs, option):
    # regression: --pairs '' --all ran every pair of the suite
    assert f"{option} is empty" in refused(cli, tmp_path, "--all", option, "")


def test_more_shots_than_the_smallest_target_class_has_are_refused(cli, tmp_path, no_runs):
    # regression: few-shot silently took fewer labels of the classes that had fewer
    line = refused(cli, tmp_path, *ONE_RUN, "--settings", "few-shot", "--shots", "100000")
    assert "--shots 100000 is more than pair uci-digits->uci-digits-rotated can give" in line


def test_an_unknown_backbone_is_refused_before_any_run(cli, tmp_path, no_runs):
    # regression: every run of the grid was started, and recorded as failed
    line = refused(cli, tmp_path, *ONE_RUN, "--backbone", "resnet1")
    assert "unknown backbone 'resnet1'" in line and "'resnet18'" in line


def test_a_timm_model_name_is_a_backbone(cli, tmp_path):
    result = cli("run", *ONE_RUN, "--backbone", "resnet18", "--dry-run", "--results", str(tmp_path / "r"))
    assert result.code == 0, result.err


def test_a_missing_weights_file_is_refused(cli, tmp_path, no_runs):
    # regression: every run was started, and recorded as failed
    line = refused(cli, tmp_path, *ONE_RUN, "--weights", f"file:{tmp_path / 'absent.safetensors'}")
    assert "no such file" in line and "absent.safetensors" in line


@pytest.mark.parametrize("device", ["cuda:x", "tpu", "gpu"])
def test_a_malformed_device_is_refused(cli, tmp_path, no_runs, device):
    # regression: torch's RuntimeError came out as a traceback
    assert "--device takes auto, cpu, cuda, cuda:N or mps" in refused(cli, tmp_path, *ONE_RUN, "--device", device)


def test_results_that_are_a_file_are_refused(cli, tmp_path, no_runs):
    # regression: the grid ran and failed to write its first record (a traceback)
    (tmp_path / "file").write_text("")
    for results in (tmp_path / "file", tmp_path / "file" / "results"):
        result = cli("run", *ONE_RUN, "--results", str(results))
        assert result.code == 2 and "is a file" in result.err and "Traceback" not in result.err


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_results_that_are_not_writable_are_refused(cli, tmp_path, no_runs):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = cli("run", *ONE_RUN, "--results", str(locked / "results"))
    assert result.code == 2 and "is not writable" in result.err


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_results_where_not_even_root_may_write_are_refused(cli, no_runs):
    # the mode bits let root write in /proc: the grid started and mkdir raised a traceback
    result = cli("run", *ONE_RUN, "--results", "/proc/tlarena-results")
    assert result.code == 2 and "is not writable" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("where, says", [("missing/board.csv", "there is no directory"), (".", "is a directory")])
def test_show_output_where_no_file_can_be_written_is_refused_before_any_work(cli, tmp_path, where, says):
    # a FileNotFoundError traceback, after every record had been read and ranked
    results = synthetic.write(tmp_path / "results", [synthetic.record("fine-tune", "p->q", 0)])
    result = cli("show", "--results", str(results), "--format", "csv", "--output", str(tmp_path / where))
    assert result.code == 2 and says in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("command", [("show",), ("leaderboard", "--port", "99999"), ("list", "pairs")])
def test_a_pairs_file_that_is_not_there_is_refused_by_every_command(cli, tmp_path, command):
    # Regression: `show` and `leaderboard` took a mistyped --pairs-file without a word
    tmp_path.joinpath("results").mkdir()
    results = ("--results", str(tmp_path / "results")) if command[0] != "list" else ()
    result = cli("--pairs-file", str(tmp_path / "typo.toml"), *command, *results)
    assert result.code == 2 and f"--pairs-file {tmp_path / 'typo.toml'}: no such file" in result.err


def test_an_option_is_never_taken_for_a_longer_one_it_begins(cli, capsys):
    # Regression: `show --pairs X` was read as `--pairs-file X` (argparse's abbreviations), so a
    # user filtering by pair got the whole board and exit 0. `show` has its own --pairs now;
    # `list` has none, and there `--pairs` would still begin `--pairs-file`.
    with pytest.raises(SystemExit) as exited:
        cli("list", "methods", "--pairs", "synth-digits->uci-digits")
    assert exited.value.code == 2
    assert "unrecognized arguments: --pairs synth-digits->uci-digits" in capsys.readouterr().err


@pytest.mark.parametrize("option, says", [
    (("--port", "99999"), "--port 99999: a port is a number from 1 to 65535"),
    (("--address", "nohost.invalid"), "--address 'nohost.invalid' is not a host name or an address"),
    (("--port", "IN-USE"), "is in use on 127.0.0.1; give another with --port"),
])
def test_the_leaderboard_refuses_where_it_cannot_listen_before_starting(cli, tmp_path, monkeypatch, option, says):
    # Regression: Streamlit stopped with an OverflowError traceback for --port 99999, and a port in
    # use came after "leaderboard of results/ at http://127.0.0.1:8765".
    import socket
    import subprocess

    started = []
    monkeypatch.setattr(subprocess, "call", lambda *args, **kwargs: started.append(args) or 0)
    (tmp_path / "results").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        option = tuple(str(taken.getsockname()[1]) if value == "IN-USE" else value for value in option)
        result = cli("leaderboard", "--results", str(tmp_path / "results"), *option)

    assert result.code == 2 and says in result.err and "leaderboard of" not in result.out and not started


@pytest.mark.parametrize("given, says", [
    ("dann.lr=abc", "dann's lr is a number (its default is 0.01), not \"abc\""),
    ("dann.lr=0", "dann's lr must be above 0"),
    ("dann.weight_decay=-0.1", "dann's weight_decay must be 0 or more"),
    ("dann.discriminator_width=2.5", "dann's discriminator_width is a whole number (its default is 1024), not 2.5"),
    ("dann.trade_off=true", "dann's trade_off is a number (its default is 1.0), not true"),
    ("dann.lrr=0.1", "unknown hyperparameter of dann 'lrr'. Did you mean 'lr'? It has discriminator_width, lr, "
                     "trade_off, weight_decay."),
])
def test_a_hyperparameter_of_the_wrong_kind_or_range_is_refused_before_any_run(cli, tmp_path, no_runs, given, says):
    # Regression: a rate of "abc", 0 or -1, and a width of 2.5 were accepted, and every run failed
    # (or trained nothing) in the grid.
    result = cli("run", "--methods", "dann", "--pairs", "synth-digits->uci-digits", "--settings", "uda",
                 "--seeds", "0", "--hp", given, "--results", str(tmp_path / "results"))
    assert result.code == 2 and says in result.err and not (tmp_path / "results").exists()


def test_a_data_dir_that_is_a_file_is_refused(cli, tmp_path, monkeypatch):
    # Regression: every dataset was then reported missing "at FILE/owner__name", one by one.
    (tmp_path / "data").write_text("")
    monkeypatch.setenv("TLARENA_DATA_DIR", str(tmp_path / "data"))
    result = cli("data", "check", "--suite", "digits")
    assert result.code == 2 and f"the data dir '{tmp_path / 'data'}' (--data-dir or $TLARENA_DATA_DIR) is a " \
                               f"file, not a folder" in result.err


def test_a_dry_runs_missing_data_wraps_at_80_columns_under_each_dataset(tmp_path, monkeypatch, capsys):
    # Regression: the warning wrapped from column 0 with blanks at the ends of its lines.
    import sys

    from rich.console import Console

    from tlarena import commands
    from tlarena.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)   # short paths: a path longer than a line is never broken
    monkeypatch.setattr(commands, "console", Console(file=sys.stdout, width=80, color_system=None))
    monkeypatch.setattr(commands, "errors", Console(file=sys.stderr, width=80, color_system=None))
    code = main(["--data-dir", "none", "run", "--pairs", "mnist-2000->usps-1800", "--methods", "source-only",
                 "--dry-run", "--results", "results"])
    err = capsys.readouterr().err
    warning = err[err.index("warning: a real run would stop here"):].splitlines()

    assert code == 0 and all(len(line) <= 80 and line == line.rstrip() for line in warning), warning
    items = [line for line in warning if line.startswith("  - dataset ")]
    assert len(items) == 2 and all(line.startswith(("  - dataset ", "    ")) for line in warning[2:])
