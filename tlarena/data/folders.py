"""Image folders of your own as data sources: a pair from two folders, with no code.

A folder holds one of two layouts:

- ``DIR/<class>/*.jpg|png``: one split. It is both the side's training data and its test data, as an
  Office-Home domain is; ``tlarena.partition`` then scores on a held-out 20 % of it (or, in ``uda``
  with transductive evaluation, on its unlabeled images, as the UDA literature does).
- ``DIR/train/<class>/...`` and ``DIR/test/<class>/...``: its own training and test splits.

A class is the folder right under ``DIR`` (or under ``train``/``test``); images in folders deeper
down belong to it. ``scan`` lists a folder without opening an image and fingerprints it (its
files' names and sizes), ``unreadable`` opens each image's header, and ``source`` makes the
``HubDataset`` that ``tlarena.data.hub.load_split`` reads from the folder through ``load``.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import datasets
from PIL import Image

from tlarena.data.columns import Columns, standardize
from tlarena.data.hub import IMAGE_SUFFIXES
from tlarena.pairs import HubDataset

SPLIT_FOLDERS = ("train", "test")


class FolderError(ValueError):
    """A folder that cannot be a data source; the message says which and why."""


@dataclass(frozen=True)
class Folder:
    """What ``scan`` found: the images of each split with their class, and a fingerprint."""

    path: Path
    files: dict[str, tuple[tuple[str, str], ...]]   # split → (file, class) pairs, sorted
    classes: tuple[str, ...]
    fingerprint: str

    @property
    def single_split(self) -> bool:
        return set(self.files) == {"train"}


def scan(folder: str | os.PathLike) -> Folder:
    """List ``folder``'s images by split and class; ``FolderError`` says what is wrong with it."""
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise FolderError(f"{folder}: no such folder")
    tops = _subfolders(root)
    if set(SPLIT_FOLDERS) <= {p.name for p in tops}:
        splits = {name: root / name for name in SPLIT_FOLDERS}
        others = sorted(p.name for p in tops if p.name not in SPLIT_FOLDERS)
        if others:
            raise FolderError(f"{root} has train/ and test/, so its other folders {others} would be "
                              f"ignored; move them into train/ or test/, or out of {root}")
    else:
        splits = {"train": root}
    files = {name: _classified(path) for name, path in splits.items()}
    classes = {name: sorted({label for _, label in found}) for name, found in files.items()}
    if len(splits) == 2 and classes["train"] != classes["test"]:
        raise FolderError(f"{root}: train/ and test/ have different classes ({_difference(classes)})")
    digest = hashlib.sha256()
    for name, found in files.items():
        for path, label in found:
            digest.update(f"{os.path.relpath(path, root)}\0{os.path.getsize(path)}\n".encode())
    return Folder(root, files, tuple(classes["train"]), digest.hexdigest()[:16])


def _subfolders(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _classified(split: Path) -> tuple[tuple[str, str], ...]:
    """(image file, class folder name) for every image under ``split``'s class folders."""
    loose = [p.name for p in split.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if loose:
        raise FolderError(f"{split} holds images outside any class folder (e.g. {loose[0]}); put each "
                          f"image in {split}/<class>/")
    found, empty = [], []
    for class_folder in _subfolders(split):
        before = len(found)
        for parent, folders, names in os.walk(class_folder, followlinks=True):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            found += [(os.path.join(parent, name), class_folder.name) for name in sorted(names)
                      if Path(name).suffix.lower() in IMAGE_SUFFIXES and not name.startswith(".")]
        if len(found) == before:
            empty.append(class_folder.name)
    if not found:
        raise FolderError(f"{split} holds no images in class folders (layout: {split}/<class>/*.jpg, "
                          f"image files ending in {', '.join(IMAGE_SUFFIXES)})")
    if empty:   # a class whose images are all in a format not read here would otherwise vanish
        raise FolderError(f"{split}: class folders {empty} hold no image files (ending in "
                          f"{', '.join(IMAGE_SUFFIXES)}); add images or remove the folders")
    return tuple(found)


def _difference(classes: dict[str, list[str]]) -> str:
    (first, a), (second, b) = classes.items()
    only = [f"only in {name}: {', '.join(sorted(set(mine) - set(theirs)))}"
            for name, mine, theirs in ((first, a, b), (second, b, a)) if set(mine) - set(theirs)]
    return "; ".join(only)


def unreadable(folder: Folder, shown: int = 3) -> list[str]:
    """The images PIL cannot open (header and structure checked, pixels not decoded)."""
    bad = []
    for found in folder.files.values():
        for path, _ in found:
            try:
                with Image.open(path) as image:
                    image.verify()
            except Exception as error:
                bad.append(f"{path} ({type(error).__name__}: {error})")
    return bad if len(bad) <= shown else [*bad[:shown], f"… {len(bad) - shown} more"]


def mismatched_classes(source: Folder, target: Folder) -> str | None:
    """Why two folders cannot be a domain-adaptation pair, or None when their classes agree."""
    if source.classes == target.classes:
        return None
    return (f"the source {source.path} and the target {target.path} have different classes "
            f"({_difference({'the source': list(source.classes), 'the target': list(target.classes)})})")


def source(name: str, folder: Folder) -> HubDataset:
    """The data source reading ``folder``; its fingerprint stands in for a revision."""
    split = {"train": "train", "test": "train" if folder.single_split else "test"}
    return HubDataset(name, f"local/{name}", folder.classes, revision=folder.fingerprint, splits=split,
                      local_only=True, folder=str(folder.path))


def load(source: HubDataset, split: str) -> datasets.Dataset:
    """The split of a folder source; images are read from their files when first decoded."""
    folder = scan(source.folder)
    if folder.fingerprint != source.revision:
        raise FolderError(f"{folder.path} changed since pair {source.name!r} was declared (fingerprint "
                          f"{folder.fingerprint}, not {source.revision}); start the command again")
    found = folder.files[source.splits[split]]
    features = datasets.Features({"image": datasets.Image(),
                                  "label": datasets.ClassLabel(names=list(source.classes))})
    # The fingerprint in the info keys the decoded-tensor cache: changed files are decoded anew.
    dataset = datasets.Dataset.from_dict(
        {"image": [path for path, _ in found], "label": [source.classes.index(c) for _, c in found]},
        info=datasets.DatasetInfo(description=f"image folder {folder.path} ({folder.fingerprint})",
                                  features=features))
    return standardize(dataset, source, Columns("image", "label", None, None), f"the folder {folder.path}")


def safe_name(path: str | os.PathLike) -> str:
    """A data source name from a folder's name: lower case, letters, digits, '.', '_' and '-'."""
    name = re.sub(r"[^a-z0-9._-]+", "-", Path(path).expanduser().resolve().name.lower()).strip("-.")
    return name or "folder"
