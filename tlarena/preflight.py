"""`tlarena run`'s options (and `show --output`) checked before any work: a mistake is one line
and exit status 2, never a grid of failed records or a traceback an hour in.

The cheap checks (``options``) run before the plugins load; those that need the plugins or the
data (``backbone``, ``shots``) run once the grid is known, still before its first run.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np

from tlarena.registry import unknown_message
from tlarena.spec import Budget
from tlarena.usage import UsageError

if TYPE_CHECKING:
    from tlarena.plugins import Arena

_BUDGET_OPTIONS = ("steps", "source_steps", "batch_size", "shots", "eval_points")


def options(args) -> Budget:
    """Every check that needs neither plugins nor data; returns the grid's budget."""
    for option in ("methods", "pairs", "settings"):
        value = getattr(args, option)
        if value is not None and not value.strip():
            # an empty list is a mistake, not "all of them": that would start the whole suite
            raise UsageError(f"--{option} is empty: name at least one, or leave the option out")
    if not (args.all or args.methods or args.pairs):
        raise UsageError("say what to run: --all, or --methods and/or --pairs")
    budget = _budget(args)
    for option, value in (("hparam-samples", args.hparam_samples), ("workers", args.workers)):
        if value < 1:
            raise UsageError(f"--{option} must be at least 1, not {value}")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be at least 1, not {args.threads}")
    if args.workers > 1 and args.in_process:
        raise UsageError(f"--in-process runs one run at a time: --workers must be 1, not {args.workers}")
    if args.run_timeout <= 0:
        raise UsageError(f"--run-timeout must be positive, not {args.run_timeout:g}")
    if args.weights and args.weights.startswith("file:") and not Path(args.weights[5:]).expanduser().is_file():
        raise UsageError(f"--weights {args.weights}: no such file {args.weights[5:]!r}")
    results_folder(args.results)
    return budget


def _budget(args) -> Budget:
    given = given_budget(args)
    for name, value in given.items():
        if value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, not {value}")
    return Budget(**given)


def given_budget(args) -> dict[str, int]:
    """The budget fields given on the command line: they replace the suite's."""
    return {name: getattr(args, name) for name in _BUDGET_OPTIONS if getattr(args, name) is not None}


def results_folder(results: Path) -> None:
    """The records can be written there: a folder, or a path whose nearest existing part is one;
    writable either way, as a folder made and removed there shows (the mode bits do not: root
    may write where they say no, and not in /proc where they say yes)."""
    if results.exists() and not results.is_dir():
        raise UsageError(f"--results {str(results)!r} is a file, not a folder")
    existing = next(p for p in (results, *results.parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(f"--results {str(results)!r} cannot be made: {str(existing)!r} is a file")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tlarena-probe-", dir=existing))
    except OSError as error:
        raise UsageError(f"--results {str(results)!r} is not writable "
                         f"({str(existing)!r}: {error.strerror})") from None


def output_file(path: Path) -> None:
    """``show --output`` can be a file there: not a folder, in a folder that exists."""
    if path.is_dir():
        raise UsageError(f"--output {str(path)!r} is a directory; give a file name in it")
    if not path.parent.is_dir():
        raise UsageError(f"--output {str(path)!r}: there is no directory {str(path.parent)!r}")


def listening(address: str, port: int) -> None:
    """The leaderboard can listen at ``address:port``: a port number, free there, on an address of
    this machine (Streamlit would otherwise stop with a traceback, or after our "at http://..." line)."""
    import socket

    if not 1 <= port <= 65535:
        raise UsageError(f"--port {port}: a port is a number from 1 to 65535")
    try:
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
            probe.bind((address, port))
    except socket.gaierror:
        raise UsageError(f"--address {address!r} is not a host name or an address this machine "
                         f"knows") from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is in use on {address}; give another with --port") from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"--address {address} is not an address of this machine") from None
        raise UsageError(f"cannot listen at {address}:{port}: {error.strerror}") from None


def backbone(arena: Arena, name: str) -> None:
    """A registered backbone or a model timm knows; the plugins have imported timm already."""
    import timm

    if name not in arena.backbones and not timm.is_model(name):
        known = [*arena.backbones.names(), *timm.list_models()]
        raise UsageError(f"{unknown_message('backbone', name, known)}; any timm model name works too")


def shots(arena: Arena, pairs: Iterable[str], shots_per_class: int, data_dir: Path | None,
          transductive_uda: bool, build: bool = True) -> None:
    """Few-shot draws ``shots`` labels of each class from the target's training pool: a class with
    fewer would silently give fewer. Checked on the data here (built ones are built unless
    ``build`` is off); nothing is downloaded."""
    for name in pairs:
        target = arena.pairs.get(name).target
        labels = _pool_labels(target, data_dir, transductive_uda, build)
        if labels is None or not len(labels):
            continue
        classes, counts = np.unique(labels, return_counts=True)
        if shots_per_class > counts.min():
            label = classes[counts.argmin()]
            raise UsageError(f"--shots {shots_per_class} is more than pair {name} can give: class "
                             f"{target.classes[label]!r} of {target.name} has {counts.min()} "
                             f"training images; use --shots {counts.min()} or fewer")


def _pool_labels(target, data_dir: Path | None, transductive_uda: bool, build: bool) -> np.ndarray | None:
    """The labels of the target images few-shot draws from (``tlarena.partition.cut``), or None
    when the data is not here."""
    from tlarena.data import BuildFailed, DataUnavailable, load_split
    from tlarena.data.hub import is_built
    from tlarena.pairs import BuiltDataset, MultiSource
    from tlarena.partition import Cut, Evaluation, evaluation_for

    parts = target.parts if isinstance(target, MultiSource) else (target,)
    if not build and any(isinstance(p, BuiltDataset) and not is_built(p) for p in parts):
        return None
    try:
        labels = np.asarray(load_split(target, "train", data_dir=data_dir, download=False)["label"])
    except (DataUnavailable, BuildFailed):   # a broken builder fails its pair's runs, with the reason
        return None
    if evaluation_for(target, True, transductive_uda) is Evaluation.HELD_OUT:
        labels = labels[Cut.of(labels).kept]
    return labels


def data(arena: Arena, specs: list, done: set[str], data_dir: Path | None) -> None:
    """Every dataset the runs left to do (not in ``done``, the keys recorded) will read is here (a
    folder, the data dir, the hub cache) or can be downloaded; one line per missing dataset
    otherwise, before a record is written. Runs that cannot apply (n/a) read no data."""
    from tlarena.data.check import missing
    from tlarena.grid import incompatibility
    from tlarena.settings import Setting

    pairs = {}
    for spec in specs:
        pair = arena.pairs.get(spec.pair)
        if spec.key not in done and spec.pair not in pairs and incompatibility(
                arena.methods.get(spec.method), pair, Setting(spec.setting)) is None:
            pairs[spec.pair] = pair
    problems = missing(pairs.values(), data_dir)
    if problems:
        runs = "this grid's runs need data that is not here; nothing was run or written:"
        raise UsageError("\n".join([runs, *(f"  - {problem}" for problem in problems)]))


def weights(arena: Arena, specs: list, done: set[str]) -> None:
    """Hub weights that the runs left to do (not in ``done``) start from are in the local caches or
    can be downloaded; one line per model otherwise, before a record is written (Office-Home's
    default ResNet-50 on a machine without the hub would otherwise fail every run of the suite)."""
    from tlarena.data.hub import _hub_online
    from tlarena.grid import incompatibility
    from tlarena.models import resolve_backbone
    from tlarena.settings import Setting

    models: dict[str, list[str]] = {}
    for spec in specs:
        method = arena.methods.get(spec.method)
        if (spec.weights != "hub" or spec.key in done or method.init == "random"
                or incompatibility(method, arena.pairs.get(spec.pair), Setting(spec.setting)) is not None):
            continue
        models.setdefault(resolve_backbone(arena, spec.backbone, "hub").model, []).append(spec.backbone)
    absent = [model for model in models if not _weights_cached(model)]
    if absent and not _hub_online():
        lines = [f"  - {model} (backbone {models[model][0]}): not in the Hugging Face or torch cache, and the "
                 f"hub is unreachable (or HF_HUB_OFFLINE is set)" for model in absent]
        raise UsageError("\n".join(["this grid's runs start from pretrained weights that are not here; "
                                    "nothing was run or written:", *lines,
                                    "Download them where the hub is reachable and pass --weights file:PATH, "
                                    "or train from random weights with --weights none (or --backbone lenet)."]))


def _weights_cached(model: str) -> bool:
    """Whether timm would find ``model``'s pretrained weights without a download."""
    import timm
    from huggingface_hub import try_to_load_from_cache

    config = timm.models.get_pretrained_cfg(model)
    if config is None:
        return False
    if config.hf_hub_id:
        repo = config.hf_hub_id.split("/", 2)[-1] if config.hf_hub_id.startswith("hf-hub:") else config.hf_hub_id
        return any(isinstance(try_to_load_from_cache(repo, name), str)
                   for name in ("model.safetensors", "pytorch_model.bin", config.hf_hub_filename or "model.safetensors"))
    if config.url:
        import torch.hub

        return (Path(torch.hub.get_dir()) / "checkpoints" / Path(config.url).name).is_file()
    return False
