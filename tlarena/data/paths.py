"""Where tlarena keeps data, and the error for data found in none of the places it may be.

- The cache (``$TLARENA_CACHE``, else ``~/.cache/tlarena``): built datasets, decoded tensors and
  source models, all keyed so that any run may reuse them.
- The data dir: local copies of hub datasets, one folder per hub id. Library functions take it as
  an argument (``data_dir``); the command line reads ``--data-dir``, else ``$TLARENA_DATA_DIR``.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "TLARENA_DATA_DIR"


class DataUnavailable(RuntimeError):
    """A dataset could not be loaded; the message names it, what was tried and how to provide it."""


class BuildFailed(RuntimeError):
    """A built dataset's builder raised, or made something other than what ``BuiltDataset``
    promises; ``problem`` says what, without the dataset's name."""

    def __init__(self, name: str, problem: str):
        super().__init__(name, problem)   # both in args: it pickles back whole from a worker
        self.name, self.problem = name, problem

    def __str__(self) -> str:
        return f"built dataset {self.name!r}: {self.problem}"


def cache_root() -> Path:
    return Path(os.environ.get("TLARENA_CACHE", Path.home() / ".cache" / "tlarena"))


def dataset_dir(root: str | os.PathLike, hub_id: str, config: str | None = None) -> Path:
    """Where the local copy of ``hub_id`` (and ``config``) lives under the data dir ``root``:
    ``<root>/<owner>__<name>/``, or ``<root>/<owner>__<name>/<config>/``."""
    owner, sep, name = hub_id.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ValueError(f"hub id {hub_id!r} is not of the form owner/name")
    return Path(root) / f"{owner}__{name}" / (config or "")
