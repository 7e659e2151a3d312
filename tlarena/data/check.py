"""Which datasets some pairs need and where each one is: ``tlarena data check``, and the data
preflight of ``tlarena run`` (one message per missing dataset, before any run starts).

A dataset is what one copy serves: a hub id and config (every source reading it, whatever rows it
filters), a built dataset, or an image folder. ``locate`` finds it without decoding an image, in the
order ``load_split`` reads: the folder; the local copy under the data dir; the Hugging Face cache
(opened offline, memory-mapped); the hub, when it answers. ``describe`` adds its rows per split and
a fingerprint.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from tlarena.data.paths import DATA_DIR_ENV, DataUnavailable, dataset_dir
from tlarena.pairs import BuiltDataset, DataSource, DomainPair, HubDataset, MultiSource

# where a dataset was found
FOLDER, DATA_DIR, HUB_CACHE, HUB, BUILT, BUILT_LATER, MISSING = (
    "folder", "data dir", "hub cache", "hub", "built", "built on first use", "missing")


@dataclass(frozen=True)
class Dataset:
    """One copy's worth of data and the sources of the pairs that read it."""

    name: str                           # hub id[config], built name, or folder source name
    sources: tuple[HubDataset | BuiltDataset, ...]
    pairs: tuple[str, ...]

    @property
    def first(self) -> HubDataset | BuiltDataset:
        return self.sources[0]


@dataclass(frozen=True)
class Location:
    where: str                          # one of the names above
    detail: str = ""                    # the folder, or why it is missing

    @property
    def present(self) -> bool:
        return self.where != MISSING


def needed(pairs: Iterable[DomainPair]) -> list[Dataset]:
    """The datasets ``pairs`` read, each once, in the order the pairs first need them."""
    found: dict[str, tuple[list, list]] = {}
    for pair in pairs:
        for side in (pair.source, pair.target):
            for source in _leaves(side):
                sources, users = found.setdefault(_name(source), ([], []))
                if source not in sources:
                    sources.append(source)
                if pair.name not in users:
                    users.append(pair.name)
    return [Dataset(name, tuple(sources), tuple(users)) for name, (sources, users) in found.items()]


def _leaves(source: DataSource) -> Iterable[HubDataset | BuiltDataset]:
    if isinstance(source, MultiSource):
        for part in source.parts:
            yield from _leaves(part)
    else:
        yield source


def _name(source: HubDataset | BuiltDataset) -> str:
    if isinstance(source, BuiltDataset):
        return f"{source.name} (built)"
    if source.folder is not None:
        return f"{source.name} (folder)"
    return source.path + (f"[{source.config}]" if source.config else "")


def locate(dataset: Dataset, data_dir: Path | None, probe_hub: bool = True) -> Location:
    """Where ``dataset`` will be read from; nothing is downloaded or decoded. ``probe_hub``: ask the
    hub whether it answers (once per process) when the data is nowhere on this machine."""
    from tlarena.data.hub import _hub_online, is_built, load_split

    source = dataset.first
    if isinstance(source, BuiltDataset):
        return Location(BUILT if is_built(source) else BUILT_LATER)
    if source.folder is not None:
        here = Path(source.folder).is_dir()
        return Location(FOLDER if here else MISSING, source.folder if here else f"no folder {source.folder}")
    if data_dir is not None and dataset_dir(data_dir, source.path, source.config).is_dir():
        return Location(DATA_DIR, str(dataset_dir(data_dir, source.path, source.config)))
    if source.local_only:
        return Location(MISSING, _nowhere(source, data_dir, "it has no hub copy"))
    try:
        load_split(source, "train", data_dir=None, download=False)
        return Location(HUB_CACHE)
    except (DataUnavailable, KeyError):
        pass
    if probe_hub and _hub_online():
        return Location(HUB, f"{source.path} downloads on first use")
    return Location(MISSING, _nowhere(source, data_dir, "the hub is unreachable (or HF_HUB_OFFLINE is set) "
                                                        "and the Hugging Face cache has no copy"))


def _nowhere(source: HubDataset, data_dir: Path | None, hub: str) -> str:
    local = (f"no local copy at {dataset_dir(data_dir, source.path, source.config)}" if data_dir is not None
             else f"no data dir (--data-dir or {DATA_DIR_ENV})")
    return f"{local}; {hub}"


def missing(pairs: Iterable[DomainPair], data_dir: Path | None) -> list[str]:
    """One message per dataset ``pairs`` need that is nowhere to be read, with how to provide it."""
    messages = []
    for dataset in needed(pairs):
        location = locate(dataset, data_dir)
        if not location.present:
            more = len(dataset.pairs) - 3
            used = ", ".join(dataset.pairs[:3]) + (f" and {more} more pairs" if more > 0 else "")
            messages.append(f"dataset {dataset.name} is missing ({location.detail}); needed by {used}. "
                            f"{_how(dataset.first, data_dir)}")
    return messages


def _how(source: HubDataset, data_dir: Path | None) -> str:
    if source.folder is not None:
        return "Give an existing folder."
    where = str(data_dir) if data_dir is not None else "DIR"
    convert = (f"tlarena data import FORMAT --hub-id {source.path} --split NAME=PATH --data-dir {where}"
               + (f" --config {source.config}" if source.config else ""))
    online = "" if source.local_only else "run once with internet access, or "
    return f"To provide it: {online}{convert} (see `tlarena data import --help`)."


def describe(dataset: Dataset, location: Location) -> tuple[str, str]:
    """(rows of each split the copy holds, fingerprint) of a dataset that is here; the hub's
    revision where it is not downloaded yet."""
    from tlarena.data.hub import _built_path

    source = dataset.first
    if location.where == FOLDER:
        from tlarena.data import folders
        scanned = folders.scan(source.folder)
        return _rows({name: len(files) for name, files in scanned.files.items()}), scanned.fingerprint
    if location.where == BUILT:
        return _saved(_built_path(source))
    if location.where == DATA_DIR:
        folder = Path(location.detail)
        if (folder / "dataset_dict.json").is_file():
            return _saved(folder)
        return _local_rows(source, folder), _tree(folder)
    if location.where == HUB_CACHE:
        return _cached(source)
    if location.where == HUB:
        return "-", f"rev {(source.revision or 'main')[:12]}"
    return "-", "-"


def _saved(folder: Path) -> tuple[str, str]:
    import datasets

    return _summary(datasets.load_from_disk(str(folder)))   # memory-mapped: nothing is decoded


def _summary(splits) -> tuple[str, str]:
    """Rows per split, and a fingerprint of the splits' own (``datasets``') fingerprints."""
    digest = hashlib.sha256("".join(split._fingerprint for split in splits.values()).encode())
    return _rows({name: len(split) for name, split in splits.items()}), digest.hexdigest()[:16]


def _local_rows(source: HubDataset, folder: Path) -> str:
    """Rows of a parquet copy (from the files' footers) or an image-folder copy (its files)."""
    import pyarrow.parquet as pq

    from tlarena.data.hub import _image_files, _parquet_files

    try:
        if parquet := _parquet_files(source, folder):
            return _rows({name: sum(pq.ParquetFile(f).metadata.num_rows for f in files)
                          for name, files in parquet.items()})
        return _rows({name: len(files) for name, files in _image_files(folder).items()}) or "no rows"
    except (DataUnavailable, OSError) as error:
        return f"unreadable: {str(error).splitlines()[0]}"


def _cached(source: HubDataset) -> tuple[str, str]:
    import datasets

    from tlarena.data.hub import _offline

    with _offline():
        return _summary(datasets.load_dataset(source.path, source.config, revision=source.revision))


def _tree(folder: Path) -> str:
    """Files' names and sizes: what identifies a copy without reading it."""
    digest = hashlib.sha256()
    for parent, _, files in sorted(os.walk(folder)):
        for name in sorted(files):
            path = os.path.join(parent, name)
            digest.update(f"{os.path.relpath(path, folder)}\0{os.path.getsize(path)}\n".encode())
    return digest.hexdigest()[:16]


def _rows(splits: dict[str, int]) -> str:
    return " ".join(f"{name} {count}" for name, count in splits.items())
