"""`tlarena show`, `list`, `--help` and `--version` as a new user meets them."""
import argparse
import io
import sys

import pytest
from rich.console import Console

from tlarena import commands, terminal
from tlarena.cli import _DefaultsFormatter, _parser, main
from tlarena_leaderboard import synthetic

LONG = "domainnet-clipart->domainnet-real"


@pytest.fixture
def results(tmp_path):
    records = [synthetic.record(method, pair, seed, top1=0.6 + 0.1 * index + 0.01 * seed)
               for index, method in enumerate(("scratch", "fine-tune", "synth_method"))
               for pair in ("synth-digits->synth-digits-colour", LONG) for seed in range(3)]
    records += [synthetic.record("dann", LONG, 0, status="failed", reason="out of memory"),
                synthetic.record("dann", "synth-digits->synth-digits-colour", 0, status="n/a",
                                 reason="needs unlabeled target"),
                synthetic.record("linear-probe", LONG, 0)]
    return synthetic.write(tmp_path / "results", records)


@pytest.fixture
def narrow(capsys, monkeypatch):
    """Run the CLI on a terminal of the given width."""
    def run(width: int, *args: str) -> str:
        monkeypatch.setattr(commands, "console", Console(file=sys.stdout, width=width, color_system=None))
        monkeypatch.setattr(commands, "errors", Console(file=sys.stderr, width=width, color_system=None))
        assert main(list(args)) == 0
        return capsys.readouterr().out

    return run


@pytest.mark.parametrize("width", [80, 120])
def test_show_never_cuts_a_name_on_a_narrow_terminal(narrow, results, width):
    out = narrow(width, "show", "--results", str(results))
    lines = out.splitlines()
    assert any(LONG in line for line in lines) and any("synth-digits->synth-digits-colour" in line for line in lines)
    assert "…" not in out and all(len(line) <= width for line in lines)


@pytest.mark.parametrize("what", ["methods", "pairs", "suites"])
def test_list_never_cuts_a_name_at_80_columns(narrow, what):
    out = narrow(80, "list", what)
    assert "…" not in out
    if what == "pairs":
        assert "domainnet-clipart->domainnet-real" in out


def test_a_long_value_wraps_under_itself_at_80_columns_not_under_the_names(narrow):
    lines = narrow(80, "list", "methods").splitlines()
    # only names start a line: a wrapped paper title used to run on from column 0
    assert [line for line in lines if line and not line.startswith(" ") and " " in line] == []
    paper = next(i for i, line in enumerate(lines) if "Revisiting Batch Normalization" in line)
    more = lines[paper + 1]
    assert more.strip() and len(more) - len(more.lstrip()) == lines[paper].index("Li et al.")


def test_list_suites_names_each_suite_with_its_pairs(narrow):
    out = narrow(200, "list", "suites")
    assert "embedded" in out and "domainnet" in out and "office-home" in out and "task transfer" in out


def test_show_says_which_cells_failed_are_na_or_missing_and_who_is_tied(narrow, results):
    out = narrow(250, "show", "--results", str(results))
    assert "failed: out of memory" in out and "n/a: needs unlabeled target" in out
    assert "missing: no run recorded" in out and "tied with leader" in out and "leader" in out


def test_show_output_with_the_default_format_writes_the_table(cli, results, tmp_path):
    target = tmp_path / "board.txt"
    result = cli("show", "--results", str(results), "--output", str(target))
    assert result.code == 0 and "fine-tune" in target.read_text() and "± " in target.read_text()


def test_show_latex_escapes_underscores(cli, results):
    result = cli("show", "--results", str(results), "--format", "latex")
    assert r"synth\_method" in result.out and "synth_method" not in result.out and r"\toprule" in result.out


def test_results_come_from_the_environment(cli, results, monkeypatch):
    monkeypatch.setenv("TLARENA_RESULTS", str(results))
    result = cli("show", "--format", "csv")
    assert result.code == 0 and "fine-tune" in result.out


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == "tlarena 0.1.0"


def _parsers(parser: argparse.ArgumentParser):
    """``parser`` and every subcommand's parser under it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def _options(parser: argparse.ArgumentParser):
    for each in _parsers(parser):
        for action in each._actions:
            if action.option_strings and not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                yield each.prog, action


def test_help_shows_every_default():
    formatter = _DefaultsFormatter("tlarena")
    undocumented = [f"{prog} {action.option_strings[0]}" for prog, action in _options(_parser())
                    if not action.required and action.default is not False
                    and "default" not in formatter._get_help_string(action)]
    assert undocumented == []


def test_every_help_fits_an_80_column_terminal(monkeypatch):
    # the run's exit statuses and tlarena's own description were laid out by hand at 84 to 93
    # columns, past argparse's wrapping: an 80-column terminal broke them mid-word
    monkeypatch.setenv("COLUMNS", "80")
    wide = {parser.prog: [line for line in parser.format_help().splitlines() if len(line) > 80]
            for parser in _parsers(_parser())}
    assert len(wide) >= 9 and {prog: lines for prog, lines in wide.items() if lines} == {}


def test_leaderboard_without_results_says_how_to_get_them(cli, tmp_path):
    result = cli("leaderboard", "--results", str(tmp_path / "none"))
    assert result.code == 2 and "tlarena run --all" in result.err


def test_a_turned_board_that_must_wrap_stays_inside_the_terminal():
    # rich shrank every column evenly, then widened partial-fine-tune's back: 212 columns in 200
    methods = ["fixmatch", "l2-sp", "fine-tune", "partial-fine-tune", "lp-ft", "bitfit", "scratch",
               "linear-probe", "tradaboost"]
    header = ["method", "synth-digits->synth-digits-colour", "synth-digits->uci-digits", "uci-digits->synth-digits",
              "uci-digits->uci-digits-rotated", "average", "avg rank", "vs leader (Δ, 95 % CI)", "tied with leader"]
    rows = [[method, "66.7 ± 11.0", "89.0 ± 6.4", "66.7 ± 8.5", "67.2 ± 12.5", "72.4", "2.75",
             "-6.0 [-11.1, -0.8]", "no"] for method in methods]
    out = Console(file=io.StringIO(), width=200, color_system=None)
    out.print(terminal.fitted(out, header, rows, "few-shot · lenet", transposable=True))
    lines = out.file.getvalue().splitlines()
    assert lines[1].startswith("┏")   # a table, not blocks: it fits once the interval wraps
    # rich crops what overflows: the last column and the right-hand rule went missing
    assert "tradaboost" in lines[2] and all(line.endswith(("┓", "┃", "┩", "│", "┘")) for line in lines[1:])
    assert max(len(line) for line in lines) <= 200


def test_a_long_note_under_a_board_wraps_under_itself_with_no_trailing_blanks(narrow, tmp_path):
    records = [synthetic.record("fine-tune", "p->q", seed) for seed in range(2)]
    records += [synthetic.record(f"method-{i}", "p->q", 0, status="n/a",
                                 reason=f"method-{i} runs only in uda, not in few-shot") for i in range(15)]
    lines = narrow(80, "show", "--results", str(synthetic.write(tmp_path / "results", records))).splitlines()
    first = next(i for i, line in enumerate(lines) if "n/a on every pair, not shown" in line)
    note = lines[first:lines.index("  n/a: 15 runs")]
    assert len(note) > 1 and all(line.startswith("  ") and not line.endswith(" ") for line in note)
    assert "method-14" in " ".join(note) and all(len(line) <= 80 for line in lines)


def test_data_check_names_each_missing_dataset_whole_and_wraps_its_reason_under_it(narrow, offline):
    lines = narrow(80, "data", "check", "--suite", "cifar-stl").splitlines()
    # rich read "[plain_text]" as markup and printed "uoft-cs/cifar10:"
    first = next(i for i, line in enumerate(lines) if line.startswith("  uoft-cs/cifar10[plain_text]: no data dir"))
    assert lines[first + 1].startswith("    ") and not any(line.endswith(" ") for line in lines)


def test_show_pairs_ranks_the_methods_on_that_pair_alone(narrow, results):
    # "which method for my pair?": the board of one pair, its ranks and leader from it alone
    out = narrow(250, "show", "--results", str(results), "--pairs", LONG)
    assert LONG in out and "synth-digits->synth-digits-colour" not in out
    assert "synth_method" in out and "fine-tune" in out


def test_show_filters_apply_to_exports_too(cli, tmp_path):
    records = [synthetic.record(method, "a->b", seed, setting=setting, backbone=backbone)
               for method in ("fine-tune", "scratch", "dann") for setting in ("uda", "few-shot")
               for backbone in ("lenet", "resnet18") for seed in range(2)]
    results = synthetic.write(tmp_path / "results", records)
    result = cli("show", "--results", str(results), "--format", "csv", "--cells",
                 "--methods", "fine-tune,scratch", "--settings", "uda", "--backbone", "resnet18")
    assert result.code == 0
    header, *rows = [row.split(",") for row in result.out.strip().splitlines()]
    cells = {(row[header.index("method")], row[header.index("setting")], row[header.index("backbone")])
             for row in rows}
    assert cells == {("fine-tune", "uda", "resnet18"), ("scratch", "uda", "resnet18")}


def test_show_names_a_method_with_no_runs_and_what_is_recorded(cli, results):
    result = cli("show", "--results", str(results), "--methods", "fine-tun")
    assert result.code == 2 and "no run of method 'fine-tun'" in result.err
    assert "Did you mean 'fine-tune'?" in result.err and "synth_method" in result.err


def test_show_says_when_no_run_has_every_name_asked_for_together(cli, results):
    # linear-probe is recorded, and so is synth-digits->synth-digits-colour, but not together
    result = cli("show", "--results", str(results), "--methods", "linear-probe",
                 "--pairs", "synth-digits->synth-digits-colour")
    assert result.code == 2 and "no run in" in result.err and "together" in result.err


def test_an_error_on_a_terminal_wraps_at_spaces_and_keeps_every_name_whole(capsys, monkeypatch, results):
    import os
    import shutil

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *args: os.terminal_size((40, 24)))
    assert main(["show", "--results", str(results), "--pairs", "synth->colour"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) > 1 and all(len(line) <= 40 for line in lines if " " in line.strip())
    assert any(line.strip().endswith(LONG + ",") or line.strip() == LONG for line in lines)


def test_leaderboard_opens_its_link_with_the_filters_set_and_checks_the_names_first(cli, results, monkeypatch):
    pytest.importorskip("streamlit")
    import subprocess

    from tlarena import preflight

    started = []
    monkeypatch.setattr(subprocess, "call", lambda command, env: started.append(command) or 0)
    monkeypatch.setattr(preflight, "listening", lambda address, port: None)
    result = cli("leaderboard", "--results", str(results), "--pairs", LONG, "--methods", "fine-tune,scratch")
    # the app's sidebar reads these link parameters (tests/test_leaderboard_app.py)
    assert result.code == 0 and len(started) == 1
    assert "/?method=fine-tune&method=scratch&pair=domainnet-clipart-%3Edomainnet-real " in result.out

    mistyped = cli("leaderboard", "--results", str(results), "--methods", "fine-tun")
    assert mistyped.code == 2 and "Did you mean 'fine-tune'?" in mistyped.err and len(started) == 1
