"""What each CLI command does; cli.py only parses."""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tlarena import terminal
from tlarena.registry import unknown_message
from tlarena.selection import DEFAULT
from tlarena.usage import UsageError, csv_items, pair_names, seed_list

# Each command imports what it needs: `tlarena show` must not wait for torch, timm or datasets,
# which the plugins (and so `run` and `list`) import anyway.
if TYPE_CHECKING:
    import pandas as pd

    from tlarena.plugins import Arena
    from tlarena.records import RunRecord


def reader_left() -> int:
    """The exit status once the output's reader has left (``| head``), as quiet as a tool that
    SIGPIPE ended: stdout goes to /dev/null, so that Python's flush at exit does not fail again."""
    from tlarena import exit_codes

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return exit_codes.OUTPUT_CLOSED


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich's own handler exits 1, which means a failed run. SystemExit, not BrokenPipeError:
        # under --in-process a phase line is printed inside the runner, whose `except Exception`
        # would record the closed pipe as that run's failure.
        raise SystemExit(reader_left())


def _console(stderr: bool) -> Console:
    # Piped output is read by grep and scripts: table rows stay on one line instead of 80 columns.
    # No file= here: the console looks sys.stdout / sys.stderr up at each print.
    stream = sys.stderr if stderr else sys.stdout
    wide = not stream.isatty() and "COLUMNS" not in os.environ
    return _Console(stderr=stderr, width=250 if wide else None)


console = _console(stderr=False)
errors = _console(stderr=True)


def _arena(args, strict: bool = False) -> Arena:
    """The plugins' registrations. A ``--plugin`` module that does not exist is a usage error; so,
    with ``strict``, is any plugin's problem; otherwise problems are warnings."""
    from tlarena.plugins import load_arena

    arena = load_arena(tuple(args.plugin), _declared(args))
    for info in arena.plugins:
        if info.origin == "--plugin" and info.not_found:
            raise UsageError(_missing_module(info.name))
    if strict and arena.problems:
        raise UsageError(f"--strict: {'; '.join(arena.problems)}")
    for problem in arena.problems:
        _warn(problem)
    return arena


def _warn(text: str, hanging: str = "  ") -> None:
    """``warning: text`` on stderr, wrapped under itself at the terminal's width."""
    errors.print(terminal.labelled("warning:", "yellow", text, errors.width, hanging))


def _missing_module(name: str) -> str:
    import difflib
    import pkgutil

    near = dict.fromkeys([*(path.stem for path in Path.cwd().glob("*.py")), *(m.name for m in pkgutil.iter_modules())])
    close = difflib.get_close_matches(name, near, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (f"--plugin {name}: no module named {name!r} in {Path.cwd()} or the installed packages."
            f"{hint}")


def _pairs_from_files(args) -> bool:
    """Whether the command declares pairs without Python; the catalog holds none of those."""
    return bool(getattr(args, "pairs_file", None) or getattr(args, "source_folder", None))


def _declared(args) -> tuple[str, ...]:
    """The pairs declared without Python (``--pairs-file``, ``--source-folder``/``--target-folder``),
    checked once per command: folders scanned, images opened."""
    from tlarena import pairs_file

    if "declared" not in vars(args):
        source, target = getattr(args, "source_folder", None), getattr(args, "target_folder", None)
        if (source is None) != (target is None):
            raise UsageError("--source-folder and --target-folder go together: give both")
        try:
            found = [pairs_file.from_file(path) for path in getattr(args, "pairs_file", None) or []]
            if source is not None:
                found.append(pairs_file.from_folders(source, target))
        except pairs_file.DeclarationError as error:
            raise UsageError(str(error))
        args.declared = tuple(found)
    return args.declared


def _pairs_to_run(args, arena: Arena) -> list[str]:
    """``--pairs``; else the pairs of ``--suite``; else the declared pairs, if any; else the default suite."""
    from tlarena import pairs_file
    from tlarena.cli import DEFAULT_SUITE

    if args.pairs:
        return pair_names(args.pairs)
    if args.suite is None and _declared(args):
        return [name for declaration in _declared(args) for name in pairs_file.pair_names((declaration,))]
    return _suite_pairs(arena, args.suite or DEFAULT_SUITE)


def _suite_pairs(arena: Arena, suite: str) -> list[str]:
    _check_suite({pair.suite for pair in arena.pairs}, suite)
    return [pair.name for pair in arena.pairs if pair.suite == suite]


def _check_suite(suites: set[str], suite: str) -> None:
    if suite not in suites:
        raise UsageError(unknown_message("suite", suite, suites).replace("`tlarena list suites`",
                                                                         "`tlarena list pairs`"))


def run(args) -> int:
    from tlarena import catalog, preflight
    from tlarena.executors import start_fork_server

    preflight.options(args)   # before the plugins load: these mistakes answer at once
    from tlarena.reporters import reporter_modules

    args.plugin = [*args.plugin, *reporter_modules(args.report)]
    listing = catalog.read(tuple(args.plugin))
    if listing is not None:
        try:
            _check_names(args, listing)
        except UsageError:   # the plugins will not load to warn of their problems: the catalog does
            for problem in listing["problems"]:
                _warn(problem)
            raise
    if args.executor == "local" and not (args.in_process or args.dry_run):
        start_fork_server()   # before the imports below (torch, timm): the workers' imports overlap them
    from tlarena import exit_codes
    from tlarena.backbones import parse_weights
    from tlarena.environment import device_name, find_device
    from tlarena.executors import RETRIED, run_grid, worker_threads
    from tlarena.grid import grid
    from tlarena.grid_progress import GridProgress
    from tlarena.models import resolve_backbone
    from tlarena.records import load_results, recorded
    from tlarena.settings import Setting, parse_setting

    try:
        settings = [parse_setting(s) for s in csv_items(args.settings)] if args.settings else None
        weights = parse_weights(args.weights) if args.weights else None
        device = find_device(args.device)
    except ValueError as error:
        raise UsageError(str(error))
    arena = _arena(args, strict=args.strict)
    if listing is None and not _pairs_from_files(args):   # the next command's names are checked at once
        _write_catalog(tuple(args.plugin), arena)
    executor_options = _executor_options(args, arena)
    methods = csv_items(args.methods) if args.methods else arena.methods.names()
    pairs = _pairs_to_run(args, arena)
    for name in methods:
        arena.methods.get(name)
    for name in pairs:
        arena.pairs.get(name)
    transductive = args.uda_eval == "transductive"
    overrides = _hp_overrides(arena, args.hp or [], methods)
    specs, shots = [], []
    # each pair runs with its suite's backbone, weights and budget; a flag given replaces one
    for suite, names in _suite_groups(arena, pairs):
        name = args.backbone or suite.backbone
        preflight.backbone(arena, name)
        backbone = resolve_backbone(arena, name, weights or suite.weights)
        suite_budget = dataclasses.replace(suite.budget, **preflight.given_budget(args))
        specs += grid(arena, methods, names, backbone.name, backbone.weights, seed_list(args.seeds),
                      suite_budget, settings, hparam_samples=args.hparam_samples, overrides=overrides,
                      transductive_uda=transductive)
        few_shot = {spec.pair for spec in specs if spec.setting == Setting.FEW_SHOT.value and spec.pair in names}
        shots += [(sorted(few_shot), suite_budget.shots)] if few_shot else []
        console.print(terminal.paragraph(f"{suite.name or 'pairs'}: {backbone.name}, weights {backbone.weights}, "
                                         f"{_budget_text(suite_budget)}", console.width))
    # the results folder read once: what is done (the checks skip it) and how long runs took here
    held = recorded(args.results)
    done = set() if args.rerun else held.finished(() if args.no_retry else RETRIED)
    # missing data first, once per dataset; then the shots against the data that is there
    try:
        preflight.data(arena, specs, done, args.data_dir)
        preflight.weights(arena, specs, done)
    except UsageError as missing:
        if not args.dry_run:
            raise
        _warn(f"a real run would stop here: {missing}", hanging="    ")
    for few_shot, count in shots:
        preflight.shots(arena, few_shot, count, args.data_dir, transductive, build=not args.dry_run)
    setting_count = terminal.counted(len(settings), "setting") if settings else "each pair's settings"
    # what each run will record (on CPU a worker's share of the cores), so that the estimates
    # below find the runs recorded on this hardware
    threads = worker_threads(args.workers, args.threads) if args.executor == "local" else args.threads
    hardware = device_name(device, threads if device.type == "cpu" else None)
    # a method without a search space runs its defaults alone, hence "up to"
    configs = f" × up to {args.hparam_samples} configurations" if args.hparam_samples > 1 else ""
    grid_size = " × ".join([terminal.counted(len(methods), "method"), terminal.counted(len(pairs), "pair"),
                            setting_count, terminal.counted(len(seed_list(args.seeds)), "seed")])
    console.print(terminal.paragraph(f"tlarena: {terminal.counted(len(specs), 'run')} ({grid_size}{configs}) "
                                     f"on {hardware} → {args.results}/", console.width))
    if args.dry_run:
        return _dry_run(args, arena, specs, hardware, held.records, done)
    statuses: Counter = Counter()
    warnings: list[str] = []
    with GridProgress(console, specs, args.results, args.workers,
                      _estimates(arena, specs, hardware, held.records)) as shown:
        executor = _executor(args, arena, device, executor_options, shown.phase)

        def report(spec, status):
            statuses[status] += 1
            shown.finished(spec, status)

        def warn(problem):
            warnings.append(problem)
            shown.warn(problem)

        run_grid(specs, executor, args.results, rerun=args.rerun, retry=not args.no_retry, progress=report,
                 warn=warn)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    if statuses["recorded"] == len(specs):
        console.print(f"every run is already recorded in {args.results}/ (use --rerun to run again)")
    console.print(f"done: {summary}")
    frame, problems = load_results(args.results)
    keys = {spec.key for spec in specs}
    frame = frame[frame["key"].isin(keys)] if not frame.empty else frame
    _print_failures(frame, args.results)
    _print_board(frame, cells=False)
    return exit_codes.of_grid(statuses, len(warnings), args.strict)


def _check_names(args, listing: dict) -> None:
    """A ``--methods``, ``--pairs`` or ``--suite`` name the plugins do not register, answered from
    the catalog of ``tlarena list`` (``tlarena.catalog``) before torch is imported: a typo costs
    under a second, not the plugins' load. Pairs declared in files are not in the catalog; the
    loaded plugins answer for them."""
    methods = [row[0] for row in listing["tables"]["methods"][1]]
    for name in csv_items(args.methods) if args.methods else []:
        if name not in methods:
            raise UsageError(unknown_message("method", name, methods))
    if _pairs_from_files(args):
        return
    pairs = listing["tables"]["pairs"][1]
    names, suites = [row[0] for row in pairs], {row[1] for row in pairs}
    for name in pair_names(args.pairs) if args.pairs else []:
        if name not in names:
            raise UsageError(unknown_message("pair", name, names))
    if args.suite and not args.pairs:
        _check_suite(suites, args.suite)


def _estimates(arena: Arena, specs: list, hardware: str, records: list) -> dict[str, float | None]:
    """Each spec's expected wall time from runs recorded on this hardware (``tlarena.plan``)."""
    from tlarena.plan import plan

    return plan(specs, set(), records, hardware, _not_applicable(arena)).seconds


def _not_applicable(arena: Arena):
    """Whether a spec's run cannot apply: it is recorded as n/a without training."""
    from tlarena.grid import incompatibility
    from tlarena.settings import Setting

    def not_applicable(spec) -> bool:
        return incompatibility(arena.methods.get(spec.method), arena.pairs.get(spec.pair),
                               Setting(spec.setting)) is not None

    return not_applicable


def _suite_groups(arena: Arena, pairs: list[str]) -> list[tuple]:
    """The pairs by the defaults they run with: their suite's (``tlarena.suites``), in pair order."""
    from tlarena.suites import defaults_of

    groups: dict = {}
    for name in pairs:
        groups.setdefault(defaults_of(arena.suites, arena.pairs.get(name).suite), []).append(name)
    return list(groups.items())


def _budget_text(budget) -> str:
    source = f", source model {budget.source_steps}" if budget.source_steps else ""
    return (f"{terminal.counted(budget.steps, 'step')}{source}, batch {budget.batch_size}, "
            f"{terminal.counted(budget.eval_points, 'evaluation')}, {terminal.counted(budget.shots, 'shot')} "
            f"in few-shot")


def _executor_options(args, arena: Arena) -> dict[str, str]:
    """The executor's ``--executor-option``s (and ``--address``), checked against what it takes."""
    executor = arena.executors.get(args.executor)
    options: dict[str, str] = {}
    for item in args.executor_option or []:
        key, equals, value = item.partition("=")
        if not (equals and key.strip()):
            raise UsageError(f"--executor-option takes KEY=VALUE, e.g. partition=gpu; got {item!r}")
        options[key.strip()] = value.strip()
    if args.address:
        if "address" not in executor.options:
            raise UsageError("--address is for --executor ray")
        options["address"] = args.address
    for key in options:
        if key not in executor.options:
            raise UsageError(unknown_message(f"option of executor {executor.name}", key, executor.options)
                             .split(" (`tlarena list")[0] + f" It takes {', '.join(executor.options) or 'none'}.")
    return options


def _executor(args, arena: Arena, device, options: dict[str, str], on_phase):
    from tlarena.executors import ExecutorRequest, RunnerRecipe

    # a worker process elsewhere builds its own runner from the recipe
    recipe = RunnerRecipe(tuple(args.plugin), str(device), str(args.data_dir) if args.data_dir else None,
                          threads=args.threads, declared=_declared(args))
    if args.in_process and args.threads:
        import torch

        torch.set_num_threads(args.threads)
    request = ExecutorRequest(device, recipe, args.run_timeout, args.workers, args.in_process, options, arena,
                              on_phase)
    try:
        return arena.executors.get(args.executor).create(request)
    except ValueError as error:
        raise UsageError(str(error).splitlines()[0])


def _dry_run(args, arena: Arena, specs: list, hardware: str, records: list, done: set[str]) -> int:
    """The grid, what is recorded (``done``), what is left and how long it should take, from the
    ``records`` here; nothing is run."""
    from tlarena.plan import HOW, duration, plan

    grid_plan = plan(specs, done, records, hardware, _not_applicable(arena), _live_claims(args.results))
    left = grid_plan.left
    claimed = sum(spec.key in grid_plan.claimed for spec in left)
    # runs side by side share the time left, as the ETA of the grid itself counts it
    seconds, unknown = grid_plan.total()
    estimate = duration((seconds / args.workers, unknown))
    if args.workers > 1 and seconds:
        estimate += f" with {args.workers} workers ({duration((seconds, 0)).lstrip('~')} of runs)"
    console.print(f"dry run: nothing is run or written. {len(specs) - len(left)} recorded, {len(left)} "
                  f"left{f' ({claimed} claimed by another run)' if claimed else ''}; estimated time "
                  f"left {estimate}", highlight=False)
    if left:
        ways = Counter(grid_plan.how[spec.key] for spec in left)
        console.print("estimates: " + ", ".join(f"{ways[how]} from the {how}" if how.startswith("same")
                                                 else f"{ways[how]} {how}" for how in HOW if ways[how])
                      + f" (median wall time of runs recorded on {hardware}; n/a runs do not train)",
                      highlight=False)
    header = ["runs", "recorded", *(["claimed"] if grid_plan.claimed else []), "left", "time left"]
    for name, by in (("method", lambda s: s.method), ("pair", lambda s: s.pair),
                     ("setting", lambda s: s.setting)):
        rows = [row[:3] + row[3 + (not grid_plan.claimed):] for row in grid_plan.counts(by)]
        console.print(terminal.fitted(console, [name, *header], rows, f"by {name}",
                                      numeric=tuple(header)))
    return 0


def _live_claims(results: Path) -> set[str]:
    """The keys of runs another `tlarena run` has claimed and is running now."""
    from tlarena import claims

    return {name.removesuffix(".json") for name in claims.live(results)}


def _hp_overrides(arena: Arena, items: list[str], methods: list[str]) -> dict[str, dict]:
    """``--hp method.name=value`` → {method: {name: value}}; values are read as JSON when they can be."""
    overrides: dict[str, dict] = {}
    for item in items:
        target, equals, text = item.partition("=")
        method_name, dot, name = target.rpartition(".")
        if not (equals and dot and method_name and name and text):
            raise UsageError(f"--hp takes METHOD.NAME=VALUE, e.g. fine-tune.lr=0.003; got {item!r}")
        method = arena.methods.get(method_name)
        if method_name not in methods:
            raise UsageError(f"--hp {item!r}: method {method_name!r} is not in this grid")
        if name not in method.hparams:
            raise UsageError(unknown_message(f"hyperparameter of {method_name}", name, method.hparams)
                             .split(" (`tlarena list")[0]
                             + f" It has {', '.join(sorted(method.hparams)) or 'none'}.")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        choices = method.search_space.get(name)
        if isinstance(method.hparams[name], str) and isinstance(choices, list) and value not in choices:
            # a text hyperparameter with listed choices is categorical: refuse others before any run
            raise UsageError(f"--hp {item!r}: {method_name}'s {name} is one of {', '.join(map(str, choices))}")
        if problem := _hp_problem(name, method.hparams[name], value):
            raise UsageError(f"--hp {item!r}: {method_name}'s {name} {problem}")
        overrides.setdefault(method_name, {})[name] = value
    return overrides


def _hp_problem(name: str, default, value) -> str | None:
    """What is wrong with ``value`` for a hyperparameter whose default is ``default``, or None."""
    from tlarena.methods import HARNESS_HPARAMS

    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if name in HARNESS_HPARAMS:
        in_range, rule = HARNESS_HPARAMS[name]
        if number:
            return None if in_range(value) else rule
        wanted = "a number"
    elif isinstance(default, bool):
        wanted, number = "true or false", isinstance(value, bool)
    elif isinstance(default, int):    # a count: layers, rounds, a width
        wanted, number = "a whole number", number and isinstance(value, int)
    elif isinstance(default, float):
        wanted = "a number"
    else:
        return None
    return None if number else f"is {wanted} (its default is {json.dumps(default)}), not {json.dumps(value)}"


def _print_failures(frame: pd.DataFrame, results) -> None:
    """Why runs failed, one line per distinct reason: often one cause (missing data) fails many."""
    if frame.empty:
        return
    failed = frame[frame["status"].isin(["failed", "diverged", "timed-out"])]
    reasons = failed["reason"].fillna("(no reason recorded)")
    for first_line, runs in reasons.groupby(reasons.str.split("\n").str[0]):
        errors.print(terminal.labelled(f"{terminal.counted(len(runs), 'run')} failed:", "red", runs.iloc[0],
                                       errors.width, "  "))
    if len(failed):
        errors.print(terminal.paragraph(f"(each run's record under {results}/ holds its reason and "
                                        f"traceback)", errors.width))


def _print_board(frame: pd.DataFrame, cells: bool, selection: str = DEFAULT,
                 out: Console | None = None) -> None:
    out = out or console
    for renderable in _board_renderables(frame, cells, selection, out):
        out.print(renderable, highlight=False)


def _board_renderables(frame: pd.DataFrame, cells: bool, selection: str, out: Console) -> list:
    """The overview boards (``--cells``: every cell apart), fitted to ``out``'s width."""
    from tlarena import aggregate, overview

    if frame.empty:
        return ["no runs recorded yet"]
    if cells:
        table = aggregate.cells(frame)
        if table.empty:
            return ["no successful runs to rank yet"]
        # the terminal gets the headline columns; exports keep every one
        table = aggregate.for_display(table)
        table = table[[c for c in table if c not in _EXPORT_ONLY]]
        title = "runs per cell (mean over seeds; a cell is everything but the seed)"
        return [_fitted_frame(out, table, title, prose=("hparams", "data"))]
    found, notes = overview.boards(frame, selection)
    if frame["status"].eq("ok").sum() == 0:
        notes.append("no successful runs to rank yet")
    named = overview.named_fields(found)
    shown: list = []
    for board in found:
        shown.append(_fitted_frame(out, board.table, board.title(named), transposable=True))
        shown += [terminal.paragraph(note, out.width, "  ") for note in board.notes]
    return shown + [terminal.paragraph(f"note: {note}", out.width) for note in notes] + \
        [terminal.paragraph(overview.legend(selection), out.width)]


def _fitted_frame(out: Console, table: pd.DataFrame, title: str, prose: tuple[str, ...] = (),
                  transposable: bool = False):
    numeric = tuple(str(c) for c in table if table[c].dtype.kind in "fiu")
    rows = [[_cell(v) for v in row] for row in table.itertuples(index=False)]
    return terminal.fitted(out, [str(c) for c in table], rows, title, prose=prose, numeric=numeric,
                           transposable=transposable)


_EXPORT_ONLY = ("top1_std", "steps_to_95", "train_flops", "peak_memory_bytes", "trainable_params")


def _add_row(table: Table, *cells: str) -> None:
    # Cells are data, not markup: "[cropped_digits]" or a plugin's error must print as written.
    table.add_row(*(Text(str(cell)) for cell in cells))


def _cell(value) -> str:
    """A table cell: 4 significant digits, and '-' where a field does not apply (NaN, None)."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() and abs(value) < 1e9 else f"{value:.4g}"
    return str(value)


_LISTED = ("methods", "pairs", "suites", "backbones", "executors", "plugins")


def list_(args) -> int:
    """A table of what the plugins registered; from the catalog (``tlarena.catalog``) when the
    plugins are unchanged since it was made, so that listing does not import torch."""
    from tlarena import catalog

    if args.suite and args.what != "pairs":
        # ignored, it would read as a filter that took effect
        raise UsageError(f"--suite narrows `tlarena list pairs` only, not `list {args.what}`")
    # files to read, or the data at hand to size
    if _pairs_from_files(args) or (args.what == "pairs" and args.suite):
        arena = _arena(args)
        if args.suite:
            _suite_pairs(arena, args.suite)
        header, rows = _table(arena, args.what, args.suite, args.data_dir)
    else:
        plugins = tuple(args.plugin)
        listing = catalog.read(plugins)
        if listing is None:
            arena = _arena(args)
            listing = _write_catalog(plugins, arena)
        else:
            for problem in listing["problems"]:
                _warn(problem)
        header, rows = listing["tables"][args.what]
    if args.what == "backbones":
        console.print("any timm model name works too, e.g. --backbone resnet18 --weights hub")
    prose = ("paper", "hyperparameters", "description", "problems", "registered", "source", "target",
             "defaults from")
    console.print(terminal.fitted(console, header, rows, args.what, prose=prose))
    return 0


def _write_catalog(plugins: tuple[str, ...], arena: Arena) -> dict:
    from tlarena import catalog

    return catalog.write(plugins, {what: _table(arena, what) for what in _LISTED}, arena.problems)


def _table(arena: Arena, what: str, suite: str | None = None,
           data_dir: Path | None = None) -> tuple[list[str], list[list[str]]]:
    """The header and rows ``tlarena list WHAT`` shows; for pairs with ``suite``, its pairs and the
    sizes of their data at hand (nothing is downloaded)."""
    if what == "methods":
        header = ["method", "family", "settings", "starts from", "paper", "hyperparameters"]
        rows = [[m.name, m.family, ", ".join(sorted(s.value for s in m.settings)), m.init, m.paper,
                 " ".join(f"{key}={_cell(value)}" for key, value in m.hparams.items()) or "-"]
                for m in arena.methods]
    elif what == "pairs":
        header = ["pair", "suite", "kind", "classes", "source", "target",
                  *(["source train/test", "target train/test"] if suite else [])]
        rows = [[p.name, p.suite, _kind(p), f"{len(p.source.classes)}→{len(p.target.classes)}",
                 _where(p.source), _where(p.target),
                 *([_sizes(p.source, data_dir), _sizes(p.target, data_dir)] if suite else [])]
                for p in arena.pairs if not suite or p.suite == suite]
    elif what == "suites":
        # each suite's defaults, which `tlarena run` uses unless a flag says otherwise
        header = ["suite", "pairs", "domain adaptation", "task transfer", "backbone", "weights", "input",
                  "steps", "source steps", "batch", "defaults from"]
        rows = [[name, len(pairs), sum(p.shared_label_space for p in pairs),
                 sum(not p.shared_label_space for p in pairs), *_defaults_row(arena, name)]
                for name, pairs in _by_suite(arena).items()]
    elif what == "backbones":
        header = ["backbone", "timm model", "weights", "description"]
        rows = [[b.name, b.model, b.weights, b.description] for b in arena.backbones]
    elif what == "executors":
        header = ["executor", "--executor-option", "description"]
        rows = [row for e in arena.executors
                for row in [[e.name, "-", e.description], *([e.name, f"{key}=…", text] for key, text in e.options.items())]]
    else:
        header = ["plugin", "origin", "registered", "problems"]
        rows = [[info.name, info.origin,
                 "; ".join(_summary(kind, names) for kind, names in info.registered.items()) or "-",
                 "; ".join(info.errors) or "-"] for info in arena.plugins]
    return header, [[str(cell) for cell in row] for row in rows]


def _defaults_row(arena: Arena, suite: str) -> list[str]:
    """Backbone, weights, input size (the backbone's timm config), budget and their source."""
    import timm

    from tlarena.models import resolve_backbone
    from tlarena.suites import defaults_of

    defaults = defaults_of(arena.suites, suite)
    backbone = resolve_backbone(arena, defaults.backbone, defaults.weights)
    config = timm.models.get_pretrained_cfg(backbone.model)
    size = f"{config.input_size[1]}×{config.input_size[2]}" if config and config.input_size else "?"
    budget = defaults.budget
    return [backbone.name, backbone.weights, size, str(budget.steps), str(budget.source_steps),
            str(budget.batch_size), defaults.source]


def _kind(pair) -> str:
    if not pair.shared_label_space:
        return "task transfer"
    # a pooled source (MultiSource: its parts) is what dg needs; the adaptation settings run on it too
    return "domain generalization / adaptation" if hasattr(pair.source, "parts") else "domain adaptation"


def _by_suite(arena: Arena) -> dict[str, list]:
    suites: dict[str, list] = {}
    for pair in arena.pairs:
        suites.setdefault(pair.suite, []).append(pair)
    return dict(sorted(suites.items()))


def _where(source) -> str:
    """Where a source's rows come from, short: hub id, config, revision, split and row filter."""
    from tlarena.pairs import HubDataset, MultiSource

    if isinstance(source, MultiSource):
        return " + ".join(part.name for part in source.parts)
    if not isinstance(source, HubDataset):
        return source.ref
    if source.folder is not None:
        return source.folder
    text = source.path + (f"[{source.config}]" if source.config else "")
    text += f"@{source.revision[:7]}" if source.revision else ("" if source.local_only else "@main")
    if source.splits.get("train") != "train":
        text += f" {source.splits['train']}"
    return text + "".join(f" {column}={value}" for column, value in (source.filter or {}).items())


def _sizes(source, data_dir: Path | None) -> str:
    # Listing never downloads: a suite like DomainNet is tens of gigabytes.
    from tlarena.data import BuildFailed, DataUnavailable, load_split

    try:
        return "/".join(str(len(load_split(source, split, data_dir=data_dir, download=False)))
                        for split in ("train", "test"))
    except DataUnavailable:
        return "not downloaded or imported yet"
    except BuildFailed as error:
        return f"build failed: {error.problem}"


def data(args) -> int:
    """``data import``: files → the local copy of a hub dataset, in the schema its registered sources
    read. ``data check``: which datasets the pairs need, where each is, its size and fingerprint."""
    from tlarena.data.importer import domain_values, import_data, parse_splits, source_reading

    if args.data_command == "check":
        return _data_check(args)
    if args.data_dir is None:
        raise UsageError("say where to write: --data-dir DIR (or set TLARENA_DATA_DIR)")
    if not sys.stderr.isatty():   # datasets' bars redraw themselves with \r: noise in a pipe or a log
        import datasets

        datasets.disable_progress_bars()
    arena = _arena(args)
    try:
        sides = [side for pair in arena.pairs for side in (pair.source, pair.target)]
        source = source_reading(args.hub_id, sides)
        out = import_data(args.format, args.hub_id, parse_splits(args.split), args.data_dir,
                          config=args.config, source=source, overwrite=args.overwrite,
                          domains=domain_values(args.hub_id, sides),
                          log=lambda line: console.print(f"note: {line}", highlight=False))
    except (ValueError, FileNotFoundError, FileExistsError, KeyError) as error:
        raise UsageError(str(error))
    console.print(f"imported {args.hub_id} into {out}")
    return 0


def _data_check(args) -> int:
    from tlarena.data.check import describe, locate, needed

    arena = _arena(args)
    names = _suite_pairs(arena, args.suite) if args.suite else arena.pairs.names()
    pairs = [arena.pairs.get(name) for name in names]
    rows, why = [], []
    for dataset in needed(pairs):
        location = locate(dataset, args.data_dir)
        sizes, fingerprint = describe(dataset, location)
        rows.append([dataset.name, location.where, sizes, fingerprint, str(len(dataset.pairs))])
        if not location.present:
            why.append(f"{dataset.name}: {location.detail}")
    missing = len(why)
    console.print(terminal.fitted(console, ["dataset", "where", "rows", "fingerprint", "pairs"], rows,
                                  f"data of {f'suite {args.suite}' if args.suite else 'every suite'}",
                                  prose=("rows",), numeric=("pairs",)))
    console.print(terminal.paragraph(
        f"{len(rows) - missing} of {len(rows)} datasets here or reachable; {missing} missing"
        + ("" if args.data_dir else " (no --data-dir given: local copies were not looked for)"), console.width))
    for line in why:    # one dataset a paragraph, its reason wrapped under it
        console.print(terminal.paragraph(line, console.width, "  ", "    "))
    return 0


def _summary(kind: str, names: list[str], shown: int = 6) -> str:
    more = f", … ({len(names)} in all)" if len(names) > shown else ""
    return f"{kind}s: {', '.join(names[:shown])}{more}"


def show(args) -> int:
    from tlarena import preflight, shown_runs
    from tlarena.records import load_results

    if not args.results.is_dir():
        raise UsageError(f"no results directory {str(args.results)!r}; run `tlarena run --all` first")
    if args.output is not None:
        preflight.output_file(args.output)
    frame, problems = load_results(args.results)
    frame = shown_runs.kept(frame, {option: getattr(args, option) for option, _ in shown_runs.OPTIONS},
                            args.results)
    for problem in problems:
        _warn(problem)
    if args.format == "table":
        if args.output is None:
            _print_board(frame, args.cells, args.selection)
            return 0
        with _opened(args.output) as handle:   # plain text as wide as the table needs
            _print_board(frame, args.cells, args.selection,
                         out=Console(file=handle, width=250, color_system=None))
        errors.print(f"wrote {args.output}")
        return 0
    text = _export(frame, args.cells, args.selection, args.format)
    if args.output:
        with _opened(args.output) as handle:
            handle.write(text)
        errors.print(f"wrote {args.output}")
    else:
        sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
    return 0


def _opened(path: Path):
    try:
        return path.open("w")
    except OSError as error:    # permission denied, a read-only disk: the user's to fix
        raise UsageError(f"cannot write --output {str(path)!r}: {error.strerror}") from None


def _export(frame: pd.DataFrame, cells: bool, selection: str, fmt: str) -> str:
    """``--cells``: every cell apart; otherwise the overview boards (what the app downloads)."""
    from tlarena import aggregate, overview

    if cells:
        return aggregate.export(aggregate.for_display(aggregate.cells(frame) if not frame.empty
                                                      else frame), fmt)
    found, notes = overview.boards(frame, selection)
    for note in notes:
        errors.print(f"note: {note}", highlight=False)
    return overview.export(found, fmt)


def leaderboard(args) -> int:
    """Start the Streamlit app on ``--results``; it runs until Ctrl+C."""
    import importlib.util
    import subprocess

    from tlarena import preflight

    if importlib.util.find_spec("streamlit") is None:
        raise UsageError("the leaderboard needs Streamlit: pip install 'tlarena[leaderboard]'")
    if not args.results.is_dir():
        raise UsageError(f"no results directory {str(args.results)!r}; run `tlarena run --all` first")
    link = f"http://{args.address}:{args.port}/{_filters_query(args)}"
    preflight.listening(args.address, args.port)
    app = Path(importlib.util.find_spec("tlarena_leaderboard").origin).parent / "app.py"
    env = {**os.environ, "TLARENA_RESULTS": str(args.results.resolve()),
           "TLARENA_PLUGINS": ",".join(args.plugin)}
    console.print(f"leaderboard of {args.results}/ at {link} (Ctrl+C stops it)", highlight=False,
                  soft_wrap=True)
    return subprocess.call([sys.executable, "-m", "streamlit", "run", str(app),
                            "--server.address", args.address, "--server.port", str(args.port),
                            "--server.headless", "true", "--browser.gatherUsageStats", "false",
                            "--client.toolbarMode", "viewer"],
                           env=env)


def _filters_query(args) -> str:
    """``?pair=…&setting=…``: the app's sidebar filters (its link parameters) from ``--pairs`` and
    the like, each name checked against the records first, as `show` checks it."""
    from urllib.parse import urlencode

    from tlarena import shown_runs
    from tlarena.records import load_results

    chosen = {option: getattr(args, option) for option, _ in shown_runs.OPTIONS}
    if not any(chosen.values()):
        return ""
    shown_runs.kept(load_results(args.results)[0], chosen, args.results)
    return "?" + urlencode([(column, name) for option, column in shown_runs.OPTIONS
                            if chosen[option] for name in csv_items(chosen[option])])


def reproduce(args) -> int:
    """Run one recorded spec again and print the recorded metrics beside the new ones."""
    import torch

    from tlarena import preflight
    from tlarena.environment import cpu_threads, device_name, find_device
    from tlarena.protocol import PROTOCOL
    from tlarena.records import RunRecord
    from tlarena.registry import UnknownName
    from tlarena.runner import Runner

    path = Path(args.record)
    if not path.is_file():
        path = args.results / f"{args.record}.json"
        if not path.is_file():
            raise UsageError(f"no record {args.record!r}: give a record file or a key in {args.results}/")
    try:
        old = RunRecord.from_dict(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError) as error:
        raise UsageError(f"cannot read {path}: {type(error).__name__}: {error}")
    arena = _arena(args)
    try:
        device = find_device(args.device)
    except ValueError as error:
        raise UsageError(str(error))
    spec = old.spec
    try:   # what the record names but no plugin here registers is the user's to load, not a failed run
        arena.methods.get(spec.method)
        pair = arena.pairs.get(spec.pair)
    except UnknownName as error:
        raise UsageError(f"{error.args[0]}. The record names it: load the plugin that registers it "
                         f"(--plugin MODULE, or install it)") from None
    preflight.backbone(arena, spec.backbone)
    if (spec.source, spec.target) != (pair.source.reference(), pair.target.reference()):
        _warn(f"pair {spec.pair} now reads other data than when this was recorded; the recorded "
              f"references are in the record's spec")
    if spec.protocol != PROTOCOL:
        _warn(f"recorded under protocol {spec.protocol}; this tlarena runs protocol {PROTOCOL}, so numbers "
              f"may differ")
    recorded_on = old.environment.device_name if old.environment else None
    # on CPU a sum's rounding depends on how many threads share it: run as the record did
    threads = cpu_threads(recorded_on) if recorded_on and device.type == "cpu" else None
    here = device_name(device, threads)
    if recorded_on and recorded_on != here:
        _warn(f"recorded on {recorded_on}; this is {here}. Other kernels round differently and training "
              f"amplifies it, so numbers may differ")
    console.print(Text(f"reproducing {path.name}: {spec.label()} on {here}"))
    own_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        new = Runner(arena, device, args.data_dir).execute(spec)
    finally:
        torch.set_num_threads(own_threads)
    rows = _comparison(old, new)
    table = Table("what", "recorded", "now", "same", title="recorded vs reproduced")
    for name, before, after in rows:
        _add_row(table, name, before, after, "yes" if before == after else "NO")
    console.print(table)
    if new.status != "ok" and new.reason:
        console.print(terminal.paragraph(f"now {new.status}: {new.reason}", console.width))
    same = all(before == after for _, before, after in rows)
    console.print("identical" if same else "the reproduction differs from the record", highlight=False)
    return 0 if same else 1


def _comparison(old: RunRecord, new: RunRecord) -> list[tuple[str, str, str]]:
    """(what, recorded, now) for every number that decides a run's place: status, metrics,
    selection scores and the learning curve (times and memory are expected to differ)."""
    def blocks(record):
        values = {"status": record.status}
        for block in (record.metrics, record.validation):
            if block is not None:
                values.update(asdict(block))
        values.pop("seconds_to_95", None)
        values["curve top-1"] = [point.top1 for point in record.curve]
        return values

    before, after = blocks(old), blocks(new)
    return [(name, str(before.get(name)), str(after.get(name))) for name in dict.fromkeys([*before, *after])]


COMMANDS = {"run": run, "list": list_, "show": show, "data": data, "reproduce": reproduce,
            "leaderboard": leaderboard}
