"""The `tlarena` command line: run the grid, list what plugins registered, show
the leaderboard."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tlarena import __version__, exit_codes
from tlarena.data.paths import DATA_DIR_ENV
from tlarena.executors import DEFAULT_TIMEOUT
from tlarena.registry import UnknownName
from tlarena.usage import UsageError

DEFAULT_SUITE = "embedded"
_SUITES = "the suite's (tlarena list suites)"


# What an option left unset means, for --help: these defaults are decided after parsing.
_IMPLIED = {"methods": "every registered method", "pairs": "the pairs of --suite",
            "settings": "each pair's settings", "plugin": "only installed plugins",
            "steps": _SUITES, "source_steps": _SUITES, "batch_size": _SUITES, "shots": _SUITES,
            "eval_points": _SUITES, "backbone": _SUITES, "output": "standard output",
            "config": "the dataset's only one", "suite": "every suite",
            "hp": "each method's defaults", "pairs_file": "none",
            "source_folder": "none", "target_folder": "none", "executor_option": "the executor's defaults"}


class _DefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default, unless its text already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if not action.option_strings or action.required or "default" in text or action.default is False \
                or isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            return text
        default = action.default
        if default is None or default is argparse.SUPPRESS:
            default = _IMPLIED.get(action.dest)
        if default is None:
            return text
        return f"{text} (default: {str(default).replace('%', '%%')})".strip()


_RESULTS_HELP = "the run records' folder (default: $TLARENA_RESULTS, else results)"


def _results_default() -> Path:
    return Path(os.environ.get("TLARENA_RESULTS", "results"))


def data_dir_from(given: Path | None) -> Path | None:
    """The data dir of this command: ``--data-dir``, else ``$TLARENA_DATA_DIR``, else none. Read
    here only; everything below takes it as an argument."""
    value = given if given is not None else os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def _parser() -> argparse.ArgumentParser:
    # The global options work before or after the command; SUPPRESS keeps an absent one from
    # overwriting a value given on the other side.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--plugin", action="append", default=argparse.SUPPRESS, metavar="MODULE",
                        help="load a plugin module that is not installed (repeatable)")
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="local copies of hub datasets (default: $TLARENA_DATA_DIR)")
    common.add_argument("--pairs-file", action="append", type=Path, default=argparse.SUPPRESS,
                        metavar="FILE", help="pairs declared in TOML: image folders or hub datasets, "
                                             "no Python (repeatable; see README, Your own data)")
    # No abbreviations: `show --pairs X` was once taken for `--pairs-file X`, before show had --pairs.
    parser = argparse.ArgumentParser(prog="tlarena", description=__doc__, parents=[common],
                                     formatter_class=_DefaultsFormatter, allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"tlarena {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], formatter_class=_DefaultsFormatter,
                                   allow_abbrev=False, **kwargs)

    run = command("run", help="run the grid and record every run", epilog=exit_codes.HELP)
    run.add_argument("--all", action="store_true", help="every method and pair of the suite")
    run.add_argument("--suite", help=f"default: the pairs of --pairs-file or of the folders, else "
                                     f"{DEFAULT_SUITE}")
    run.add_argument("--source-folder", type=Path, metavar="DIR",
                     help="with --target-folder: a pair of two image folders DIR/<class>/*.jpg")
    run.add_argument("--target-folder", type=Path, metavar="DIR",
                     help="with --source-folder: the target's image folder")
    run.add_argument("--methods", help="comma-separated method names")
    run.add_argument("--pairs", help="comma-separated SOURCE->TARGET pair names")
    run.add_argument("--settings", help="comma-separated: uda, few-shot, supervised, task, dg, "
                                          "source-free, test-time")
    run.add_argument("--backbone", help="registered backbone or timm model")
    run.add_argument("--weights", "--pretrained", dest="weights",
                     help="hub, none or file:PATH (default: the suite's, else the backbone's)")
    run.add_argument("--seeds", default="0,1,2")
    run.add_argument("--steps", type=int, help="the method's optimizer steps")
    run.add_argument("--source-steps", type=int, help="optimizer steps of the shared source model")
    run.add_argument("--batch-size", type=int)
    run.add_argument("--shots", type=int, help="labels per class in the few-shot setting")
    run.add_argument("--eval-points", type=int, help="evaluations along the learning curve")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    run.add_argument("--results", type=Path, default=_results_default(), help=_RESULTS_HELP)
    run.add_argument("--rerun", action="store_true", help="run recorded specs again")
    run.add_argument("--dry-run", action="store_true",
                     help="print the grid, what is recorded, what is left and an estimate of its "
                          "time from runs recorded on this hardware; run and write nothing")
    run.add_argument("--no-retry", action="store_true",
                     help="keep failed and timed-out records (by default their runs are tried again)")
    run.add_argument("--run-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                     help="stop a run that gives no result in this time and record it as timed-out")
    run.add_argument("--workers", type=int, default=1, metavar="N",
                     help="worker processes running side by side (one GPU each where there are "
                          "several; on a CPU they share its cores)")
    run.add_argument("--threads", type=int, metavar="N",
                     help="torch's CPU threads in each run (default: the cores shared among the "
                          "workers); on CPU a number depends on it, so a record names it")
    run.add_argument("--executor", default="local", metavar="NAME",
                     help="a registered executor (`tlarena list executors`): local: worker processes "
                          "on this machine; ray: each run a task on a Ray cluster (pip install "
                          "'tlarena[ray]'); slurm: each run a SLURM job (pip install 'tlarena[slurm]')")
    run.add_argument("--executor-option", action="append", metavar="KEY=VALUE",
                     help="an option of the executor, e.g. partition=gpu time=120 gpus=1 for slurm "
                          "(repeatable; `tlarena list executors` names each executor's)")
    run.add_argument("--address", metavar="ADDRESS",
                     help="with --executor ray: the cluster to join (default: the one ray.init finds, "
                          "else a local one); the same as --executor-option address=ADDRESS")
    run.add_argument("--in-process", action="store_true",
                     help="run in this process, not in a worker process (for debuggers; a plugin "
                          "that exits or hangs then stops the grid)")
    run.add_argument("--hparam-samples", type=int, default=1, metavar="N",
                     help="hyperparameter configurations per cell: the defaults, then N-1 seeded draws "
                          "from each method's search space (default: 1)")
    run.add_argument("--hp", action="append", metavar="METHOD.NAME=VALUE",
                     help="set one hyperparameter by hand, e.g. fine-tune.lr=0.003 (repeatable)")
    run.add_argument("--strict", action="store_true",
                     help="for CI: any plugin problem stops the grid before it starts (exit 2); a "
                          "diverged run or a warning while it runs exits 1")
    run.add_argument("--report", action="append", metavar="NAME",
                     help="send each finished run to mlflow (MLFLOW_TRACKING_URI) or wandb "
                          "(WANDB_MODE, WANDB_PROJECT); comma-separated or repeatable; each needs its "
                          "extra, e.g. pip install 'tlarena[mlflow]' (default: $TLARENA_REPORT, else none)")
    run.add_argument("--uda-eval", choices=["transductive", "held-out"], default="transductive",
                     help="uda on a domain stored as one split: score on its unlabeled images "
                          "(transductive, as the UDA literature does) or on a held-out 20%% "
                          "(default: transductive)")

    listing = command("list", help="list methods, pairs, suites, backbones or plugins")
    listing.add_argument("what", choices=["methods", "pairs", "suites", "backbones", "executors", "plugins"])
    listing.add_argument("--suite", help="with pairs: only the pairs of this suite")

    show = command("show", help="print the leaderboard from recorded runs")
    show.add_argument("--results", type=Path, default=_results_default(), help=_RESULTS_HELP)
    show.add_argument("--format", choices=["table", "csv", "markdown", "latex", "json"], default="table",
                      help="table: as printed; latex: booktabs, escaped")
    show.add_argument("--cells", action="store_true", help="per (method, pair, setting) instead")
    _run_filters(show)
    show.add_argument("--output", type=Path, help="write the export here instead of stdout")
    show.add_argument("--selection", default="default",
                      choices=["default", "source-val", "target-val", "im", "snd", "oracle"],
                      help="how one hyperparameter configuration is picked per seed: default = "
                           "source-val (held-out source labels), or target-val where the labels differ "
                           "(task); im and snd score unlabeled target images, among runs that kept "
                           "their source task; oracle peeks at the "
                           "target test labels and is only an upper bound")

    reproduce = command("reproduce", help="run one recorded spec again; print old vs new metrics")
    reproduce.add_argument("record", help="a record file, or a run key in --results")
    reproduce.add_argument("--results", type=Path, default=_results_default(), help=_RESULTS_HELP)
    reproduce.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")

    board = command("leaderboard", help="start the leaderboard app (Streamlit) in the browser")
    board.add_argument("--results", type=Path, default=_results_default(), help=_RESULTS_HELP)
    board.add_argument("--port", type=int, default=8501)
    board.add_argument("--address", default="127.0.0.1", help="where the app listens")
    _run_filters(board, "the link opens with its filters set to ")

    data = command("data", help="bring local dataset files into the --data-dir layout; check what is here")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    importer = data_commands.add_parser("import", parents=[common], formatter_class=_DefaultsFormatter,
                                        allow_abbrev=False, help="convert idx / hdf5 / npz / image folders")
    importer.add_argument("format", choices=["idx", "hdf5", "npz", "imagefolder"])
    importer.add_argument("--hub-id", required=True, help="the hub dataset this copy stands in for")
    importer.add_argument("--split", action="append", required=True, metavar="NAME=PATH[,PATH]")
    importer.add_argument("--config", help="the hub dataset's config, if it has several")
    importer.add_argument("--overwrite", action="store_true")
    check = data_commands.add_parser("check", parents=[common], formatter_class=_DefaultsFormatter,
                                     allow_abbrev=False, help="which datasets the suites need, where each "
                                                              "is, its rows and fingerprint")
    check.add_argument("--suite", help="only this suite's datasets")
    return parser


def _run_filters(command: argparse.ArgumentParser, how: str = "") -> None:
    """`show`'s and `leaderboard`'s choice of runs, by the names `run` takes (``tlarena.shown_runs``)."""
    every = "(default: every one recorded)"
    command.add_argument("--methods", help=f"{how}only these methods' runs, comma-separated as under run "
                                           f"{every}")
    command.add_argument("--pairs", help=f"{how}only these SOURCE->TARGET pairs': which method for my pair? "
                                         f"{every}")
    command.add_argument("--settings", help=f"{how}only these settings' runs {every}")
    command.add_argument("--backbone", help=f"{how}only these backbones' runs {every}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.plugin = getattr(args, "plugin", [])
    args.data_dir = data_dir_from(getattr(args, "data_dir", None))
    try:
        if args.data_dir is not None and args.data_dir.exists() and not args.data_dir.is_dir():
            raise UsageError(f"the data dir {str(args.data_dir)!r} (--data-dir or ${DATA_DIR_ENV}) is a "
                             f"file, not a folder")
        # every command: `show` and `leaderboard` read no pairs file, but a name mistyped there
        # is as much a mistake as under `run`
        for path in getattr(args, "pairs_file", []):
            if not path.expanduser().is_file():
                raise UsageError(f"--pairs-file {path}: no such file")
        from tlarena.commands import COMMANDS
        code = COMMANDS[args.command](args)
        sys.stdout.flush()   # here, where a reader that has left is caught, not at Python's exit
        return code
    except BrokenPipeError:   # a plain write (`show --format csv | head`); rich's go through _Console
        from tlarena.commands import reader_left
        return reader_left()
    except (UsageError, UnknownName) as error:
        print(_for_stderr(f"tlarena: error: {error.args[0]}"), file=sys.stderr)
        return exit_codes.USAGE
    except KeyboardInterrupt:
        print("tlarena: interrupted; every finished run is recorded", file=sys.stderr)
        return exit_codes.INTERRUPTED


def _for_stderr(message: str) -> str:
    """A terminal gets each line wrapped at spaces, so no name is split at its edge (an error may
    list every recorded method); a pipe or a log keeps each line whole, for grep."""
    if not sys.stderr.isatty():
        return message
    import shutil
    import textwrap

    columns = shutil.get_terminal_size().columns
    return "\n".join(textwrap.fill(line, columns, subsequent_indent="  ", break_long_words=False,
                                    break_on_hyphens=False) or line for line in message.splitlines())
