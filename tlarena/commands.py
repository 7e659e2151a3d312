"""What each CLI command does; cli.py only parses."""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from tlarena import aggregate
from tlarena.backbones import parse_weights
from tlarena.cli import UsageError, _csv, _pairs, _seeds
from tlarena.environment import device_name, find_device
from tlarena.pairs import HubDataset, MultiSource
from tlarena.plugins import Arena, load_arena
from tlarena.records import load_results
from tlarena.registry import unknown_message
from tlarena.runner import Runner, grid, resolve_backbone
from tlarena.settings import parse_setting
from tlarena.sources import DataUnavailable, get_data_dir, load_split, set_data_dir
from tlarena.spec import Budget

def _console(stderr: bool) -> Console:
    # Piped output is read by grep and scripts: table rows stay on one line instead of 80 columns.
    # No file= here: the console looks sys.stdout / sys.stderr up at each print.
    stream = sys.stderr if stderr else sys.stdout
    wide = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, width=250 if wide else None)


console = _console(stderr=False)
errors = _console(stderr=True)


def _arena(args) -> Arena:
    if args.data_dir is not None:
        set_data_dir(args.data_dir)
    arena = load_arena(tuple(args.plugin))
    for problem in arena.problems:
        errors.print(f"[yellow]warning:[/] {problem}", highlight=False)
    return arena


def _budget(args) -> Budget:
    overrides = {name: getattr(args, name) for name in
                 ("steps", "source_steps", "batch_size", "shots", "eval_points")
                 if getattr(args, name) is not None}
    for name, value in overrides.items():
        if value < (0 if name == "steps" else 1):
            raise UsageError(f"--{name.replace('_', '-')} must be positive, not {value}")
    return Budget(**overrides)


def _suite_pairs(arena: Arena, suite: str) -> list[str]:
    suites = {pair.suite for pair in arena.pairs}
    if suite not in suites:
        raise UsageError(unknown_message("suite", suite, suites).replace("`tlarena list suites`",
                                                                         "`tlarena list pairs`"))
    return [pair.name for pair in arena.pairs if pair.suite == suite]


def run(args) -> int:
    if not (args.all or args.methods or args.pairs):
        raise UsageError("say what to run: --all, or --methods and/or --pairs")
    arena = _arena(args)
    methods = _csv(args.methods) if args.methods else arena.methods.names()
    pairs = _pairs(args.pairs) if args.pairs else _suite_pairs(arena, args.suite)
    for name in methods:
        arena.methods.get(name)
    for name in pairs:
        arena.pairs.get(name)
    try:
        settings = [parse_setting(s) for s in _csv(args.settings)] if args.settings else None
        weights = parse_weights(args.weights) if args.weights else None
        device = find_device(args.device)
    except ValueError as error:
        raise UsageError(str(error))
    backbone = resolve_backbone(arena, args.backbone, weights)
    specs = grid(arena, methods, pairs, backbone.name, backbone.weights, _seeds(args.seeds),
                 _budget(args), settings)
    setting_count = f"{len(settings)} settings" if settings else "each pair's settings"
    console.print(f"tlarena: {len(specs)} runs ({len(methods)} methods × {len(pairs)} pairs × "
                  f"{setting_count} × {len(_seeds(args.seeds))} seeds) on {device_name(device)} "
                  f"→ {args.results}/", highlight=False)
    runner = Runner(arena, args.results, device)
    statuses: Counter = Counter()
    with _progress(len(specs)) as advance:
        def report(spec, status):
            statuses[status] += 1
            advance(spec, status)

        runner.run(specs, rerun=args.rerun, progress=report)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    if statuses["recorded"] == len(specs):
        console.print(f"every run is already recorded in {args.results}/ (use --rerun to run again)")
    console.print(f"done: {summary}")
    frame, problems = load_results(args.results)
    keys = {spec.key for spec in specs}
    frame = frame[frame["key"].isin(keys)] if not frame.empty else frame
    _print_failures(frame, args.results)
    _print_board(frame, cells=False)
    return 1 if statuses["failed"] and statuses["failed"] == len(specs) - statuses["n/a"] else 0


def _print_failures(frame: pd.DataFrame, results) -> None:
    """Why runs failed, one line per distinct reason: often one cause (missing data) fails many."""
    if frame.empty:
        return
    failed = frame[frame["status"].isin(["failed", "diverged"])]
    reasons = failed["reason"].fillna("(no reason recorded)")
    for first_line, runs in reasons.groupby(reasons.str.split("\n").str[0]):
        errors.print(f"[red]{len(runs)} {'run' if len(runs) == 1 else 'runs'} failed:[/] "
                     f"{escape(runs.iloc[0])}", highlight=False)
    if len(failed):
        errors.print(f"(each run's record under {results}/ holds its reason and traceback)",
                     highlight=False)


@contextlib.contextmanager
def _progress(total: int):
    """A live bar with ETA on a terminal; one line per run with ETA elsewhere (logs, CI)."""
    if console.is_terminal:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("runs", total=total)

            def advance(spec, status):
                if status in ("failed", "diverged"):
                    bar.console.print(f"[red]{status}[/]: {spec.label()}", highlight=False)
                bar.update(task, advance=1, description=f"{spec.method} · {spec.pair}")

            yield advance
        return
    started, done, timed = time.monotonic(), 0, 0

    def advance(spec, status):
        nonlocal done, timed
        done += 1
        timed += status != "recorded"
        if status == "recorded":
            return   # skipped runs would bury the ones doing work
        elapsed = time.monotonic() - started
        # ETA from the runs that did work; skipped ones cost nothing
        eta = elapsed / timed * (total - done) if timed else 0.0
        console.print(f"[{done}/{total}] {status:<8} {spec.label()}  elapsed {elapsed:.0f}s  "
                      f"ETA {eta:.0f}s", highlight=False)

    yield advance


def _print_board(frame: pd.DataFrame, cells: bool) -> None:
    if frame.empty:
        console.print("no runs recorded yet")
        return
    table = aggregate.cells(frame)
    if table.empty:
        console.print("no successful runs to rank yet")
        return
    board = table if cells else aggregate.leaderboard(table)
    console.print(_rich_table(board, "runs per cell (mean over seeds)" if cells else "leaderboard"))


def _add_row(table: Table, *cells: str) -> None:
    # Cells are data, not markup: "[cropped_digits]" or a plugin's error must print as written.
    table.add_row(*(Text(str(cell)) for cell in cells))


def _rich_table(frame: pd.DataFrame, title: str) -> Table:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify="right" if frame[column].dtype.kind in "fiu" else "left")
    for row in frame.itertuples(index=False):
        _add_row(table, *[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    return table


def list_(args) -> int:
    arena = _arena(args)
    if args.what == "methods":
        table = Table("method", "family", "settings", "starts from", "paper", title="methods")
        for m in arena.methods:
            _add_row(table, m.name, m.family, ", ".join(sorted(s.value for s in m.settings)), m.init, m.paper)
    elif args.what == "pairs":
        # With --suite the data already here is opened to show its sizes; nothing is downloaded.
        columns = ["pair", "suite", "kind", "classes", "source", "target"]
        table = Table(*columns, *(["source train/test", "target train/test"] if args.suite else []),
                      title="pairs")
        for p in arena.pairs:
            if args.suite and p.suite != args.suite:
                continue
            kind = "domain adaptation" if p.shared_label_space else "task transfer"
            classes = f"{len(p.source.classes)}→{len(p.target.classes)}"
            sizes = [_sizes(p.source), _sizes(p.target)] if args.suite else []
            _add_row(table, p.name, p.suite, kind, classes, _where(p.source), _where(p.target), *sizes)
        if args.suite:
            _suite_pairs(arena, args.suite)
    elif args.what == "backbones":
        table = Table("backbone", "timm model", "weights", "description", title="backbones")
        for b in arena.backbones:
            _add_row(table, b.name, b.model, b.weights, b.description)
        console.print("any timm model name works too, e.g. --backbone resnet18 --weights hub")
    else:
        table = Table("plugin", "origin", "registered", "problems", title="plugins")
        for info in arena.plugins:
            registered = "; ".join(_summary(kind, names) for kind, names in info.registered.items())
            _add_row(table, info.name, info.origin, registered or "-", "; ".join(info.errors) or "-")
    console.print(table)
    return 0


def _where(source) -> str:
    """Where a source's rows come from, short: hub id, config, revision, split and row filter."""
    if isinstance(source, MultiSource):
        return " + ".join(part.name for part in source.parts)
    if not isinstance(source, HubDataset):
        return source.ref
    text = source.path + (f"[{source.config}]" if source.config else "")
    text += f"@{source.revision[:7]}" if source.revision else ("" if source.local_only else "@main")
    if source.splits.get("train") != "train":
        text += f" {source.splits['train']}"
    return text + "".join(f" {column}={value}" for column, value in (source.filter or {}).items())


def _sizes(source) -> str:
    # Listing never downloads: a suite like DomainNet is tens of gigabytes.
    try:
        return "/".join(str(len(load_split(source, split, download=False))) for split in ("train", "test"))
    except DataUnavailable:
        return "not downloaded or imported yet"


def data(args) -> int:
    from tlarena.local_data import import_data, parse_splits

    if args.data_dir is None and get_data_dir() is None:
        raise UsageError("say where to write: --data-dir DIR (or set TLARENA_DATA_DIR)")
    try:
        out = import_data(args.format, args.hub_id, parse_splits(args.split),
                          args.data_dir or get_data_dir(), config=args.config, overwrite=args.overwrite)
    except (ValueError, FileNotFoundError, FileExistsError, KeyError) as error:
        raise UsageError(str(error))
    console.print(f"imported {args.hub_id} into {out}")
    return 0


def _summary(kind: str, names: list[str], shown: int = 6) -> str:
    more = f", … ({len(names)} in all)" if len(names) > shown else ""
    return f"{kind}s: {', '.join(names[:shown])}{more}"


def show(args) -> int:
    if not args.results.is_dir():
        raise UsageError(f"no results directory {str(args.results)!r}; run `tlarena run --all` first")
    frame, problems = load_results(args.results)
    for problem in problems:
        errors.print(f"[yellow]warning:[/] {problem}", highlight=False)
    if args.format == "table":
        _print_board(frame, args.cells)
        return 0
    table = aggregate.cells(frame) if not frame.empty else frame
    text = aggregate.export(table if args.cells else aggregate.leaderboard(table), args.format)
    if args.output:
        args.output.write_text(text)
        errors.print(f"wrote {args.output}")
    else:
        sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
    return 0


COMMANDS = {"run": run, "list": list_, "show": show, "data": data}
