"""Pairs declared without Python: a pairs file (TOML), or two image folders on the command line.

A pairs file names its datasets once, then the suites that pair them (as lm-eval's YAML tasks let a
user add a task without code)::

    [datasets.studio]                 # an image folder: <class>/*.jpg, or train/ and test/ of them
    folder = "photos/studio"          # relative to this file

    [datasets.mnist]                  # a hub dataset (or its local copy under --data-dir)
    hub = "ylecun/mnist"
    revision = "77f3279092a1c1579b2250db8eafed0ad422088c"
    classes = 10                      # a count ("0".."9") or the names, in the label order
    splits = { train = "train[:2000]", test = "test" }   # default: train and test
    # also: config, image_column, label_column, filter = { domain = "Art" }

    [suites.products]
    pairs = ["studio->phone", "phone->studio"]   # SOURCE->TARGET, as --pairs names them
    description = "..."                          # optional; augment = "flip-crop" too

``declare`` checks it all before any work (unknown keys, classes that differ between a source and
its target, empty folders, unreadable images) and returns the declaration as JSON text: what a
worker process needs to register the same pairs (``register``) without reading a folder again.
"""
from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Callable

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import tlarena
from tlarena.data import folders
from tlarena.pairs import DomainPair, HubDataset

_TOP = ("datasets", "suites")
_FOLDER_KEYS = ("folder",)
_HUB_KEYS = ("hub", "classes", "revision", "config", "splits", "image_column", "label_column", "filter")
_SUITE_KEYS = ("pairs", "description", "augment")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")
FOLDERS_SUITE = "folders"   # the suite of a pair given by --source-folder and --target-folder


class DeclarationError(ValueError):
    """A pairs file or folder pair that cannot be used; the message says where and why."""


def from_file(path: str | os.PathLike, check_images: bool = True) -> str:
    """The declaration in the pairs file ``path``, checked (see the module's docstring)."""
    path = Path(path).expanduser()
    try:
        content = tomllib.loads(path.read_text())
    except OSError as error:
        raise DeclarationError(f"--pairs-file {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise DeclarationError(f"--pairs-file {path}: not valid TOML: {error}") from None
    return declare(content, path.resolve().parent, str(path), check_images)


def from_folders(source: str | os.PathLike, target: str | os.PathLike, check_images: bool = True) -> str:
    """The pair of two image folders, in suite ``folders``, named after the folders."""
    names = folders.safe_name(source), folders.safe_name(target)
    if names[0] == names[1]:
        names = f"{names[0]}-source", f"{names[1]}-target"
    content = {"datasets": {names[0]: {"folder": str(source)}, names[1]: {"folder": str(target)}},
               "suites": {FOLDERS_SUITE: {"pairs": [f"{names[0]}->{names[1]}"]}}}
    return declare(content, Path.cwd(), "--source-folder/--target-folder", check_images)


def declare(content: dict, base: Path, where: str, check_images: bool = True) -> str:
    """``content`` (a parsed pairs file) checked, folders scanned; as JSON text for ``register``."""
    _known_keys(content, _TOP, where)
    if not content.get("suites"):
        raise DeclarationError(f"{where}: declares no [suites.NAME] with pairs to run")
    sources = {name: _dataset(name, fields, base, f"{where}: [datasets.{name}]", check_images)
               for name, fields in _table(content.get("datasets", {}), f"{where}: datasets").items()}
    suites = {}
    for name, fields in _table(content["suites"], f"{where}: suites").items():
        here = f"{where}: [suites.{name}]"
        _valid_name(name, here)
        _known_keys(fields, _SUITE_KEYS, here)
        pairs = fields.get("pairs")
        if not isinstance(pairs, list) or not pairs or not all(isinstance(p, str) for p in pairs):
            raise DeclarationError(f"{here}: pairs must be a list of \"SOURCE->TARGET\" names")
        for pair in pairs:
            _check_pair(pair, sources, here)
        suites[name] = {"pairs": pairs, "description": str(fields.get("description", "")),
                        "augment": str(fields.get("augment", "none"))}
    return json.dumps({"where": where, "datasets": sources, "suites": suites}, sort_keys=True)


def _table(value, where: str) -> dict:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise DeclarationError(f"{where}: expected tables [{where.rsplit(': ', 1)[-1]}.NAME]")
    return value


def _known_keys(fields: dict, known: tuple[str, ...], where: str) -> None:
    for key in fields:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(known)}"
            raise DeclarationError(f"{where}: unknown key {key!r}; {hint}")


def _valid_name(name: str, where: str) -> None:
    if not _NAME.match(name) or "->" in name:
        raise DeclarationError(f"{where}: name {name!r}: use lower-case letters, digits, '-', '.', '_'")


def _dataset(name: str, fields: dict, base: Path, where: str, check_images: bool) -> dict:
    """The ``HubDataset`` fields of one declared dataset."""
    _valid_name(name, where)
    if ("folder" in fields) == ("hub" in fields):
        raise DeclarationError(f"{where}: give either folder = \"DIR\" or hub = \"OWNER/NAME\"")
    if "folder" in fields:
        _known_keys(fields, _FOLDER_KEYS, where)
        return _folder(name, base / Path(str(fields["folder"])).expanduser(), where, check_images)
    _known_keys(fields, _HUB_KEYS, where)
    if "/" not in str(fields["hub"]):
        raise DeclarationError(f"{where}: hub {fields['hub']!r} is not of the form owner/name")
    classes = fields.get("classes")
    if isinstance(classes, int) and not isinstance(classes, bool) and classes > 1:
        classes = [str(i) for i in range(classes)]
    if not (isinstance(classes, list) and len(classes) > 1 and all(isinstance(c, str) for c in classes)):
        raise DeclarationError(f"{where}: classes must be the class names in the label order, or their "
                               f"number (at least 2)")
    splits = fields.get("splits", {"train": "train", "test": "test"})
    if not isinstance(splits, dict) or set(splits) != {"train", "test"}:
        raise DeclarationError(f"{where}: splits must name train and test, e.g. "
                               f"splits = {{ train = \"train\", test = \"test\" }}")
    return {"path": str(fields["hub"]), "classes": classes, "revision": fields.get("revision"),
            "config": fields.get("config"), "splits": splits,
            "image_column": fields.get("image_column", "image"),
            "label_column": fields.get("label_column", "label"), "filter": fields.get("filter")}


def _folder(name: str, path: Path, where: str, check_images: bool) -> dict:
    try:
        scanned = folders.scan(path)
    except folders.FolderError as error:
        raise DeclarationError(f"{where}: {error}") from None
    if len(scanned.classes) < 2:
        raise DeclarationError(f"{where}: {scanned.path} has one class folder ({scanned.classes[0]}); "
                               f"a classifier needs two or more")
    bad = folders.unreadable(scanned) if check_images else []
    if bad:
        raise DeclarationError(f"{where}: images that cannot be opened: {'; '.join(bad)}")
    source = folders.source(name, scanned)
    return {"path": source.path, "classes": list(source.classes), "revision": source.revision,
            "splits": dict(source.splits), "local_only": True, "folder": source.folder}


def _check_pair(pair: str, sources: dict, where: str) -> None:
    source, arrow, target = pair.partition("->")
    if not arrow or not source or not target:
        raise DeclarationError(f"{where}: pair {pair!r} is not SOURCE->TARGET")
    for side in (source, target):
        if side not in sources:
            raise DeclarationError(f"{where}: pair {pair!r} names {side!r}, which is not among "
                                   f"[datasets.NAME]: {', '.join(sources) or 'none declared'}")
    ours, theirs = sources[source]["classes"], sources[target]["classes"]
    if ours != theirs:
        only = [f"only in {name}: {', '.join(sorted(set(a) - set(b)))}"
                for name, a, b in ((source, ours, theirs), (target, theirs, ours)) if set(a) - set(b)]
        raise DeclarationError(f"{where}: pair {pair!r}: the source and the target must have the same "
                               f"classes in the same order ({'; '.join(only) or 'same names, other order'})")


def pairs(declaration: str) -> list[DomainPair]:
    """The pairs of a declaration made by ``declare``."""
    content = json.loads(declaration)
    sources = {name: HubDataset(name, **{**fields, "classes": tuple(fields["classes"])})
               for name, fields in content["datasets"].items()}
    return [DomainPair(sources[s], sources[t], suite=suite, description=fields["description"],
                       augment=fields["augment"])
            for suite, fields in content["suites"].items()
            for s, t in (pair.split("->") for pair in fields["pairs"])]


def pair_names(declarations: tuple[str, ...]) -> list[str]:
    return [pair.name for declaration in declarations for pair in pairs(declaration)]


class Declared:
    """A declaration as a plugin: it registers its pairs like any plugin's."""

    def __init__(self, declaration: str):
        self.declaration = declaration

    @tlarena.hookimpl
    def register_pairs(self, register: Callable[[DomainPair], None]) -> None:
        for pair in pairs(self.declaration):
            register(pair)


def where(declaration: str) -> str:
    return json.loads(declaration)["where"]
