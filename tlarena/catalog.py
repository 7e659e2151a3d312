"""What the plugins registered, as ``tlarena list`` prints it, kept in the cache between commands.

Loading the plugins imports torch, timm and datasets (seconds); the tables of ``tlarena list``
need none of them. So ``list`` (and ``run``, whenever it loads the plugins) keeps its tables in
``$TLARENA_CACHE/catalog/``; ``list`` shows them, and ``run`` checks the names it is given against
them before it imports torch, while nothing they were made from has changed: the Python
environment, the ``tlarena`` entry points and the versions of the distributions providing them,
the ``--plugin`` modules and the folder they were looked up from, and the name, size and
modification time of every ``.py`` file of tlarena and of each plugin's top-level package. A
plugin that registers according to something else (an environment variable, a file it reads) is
listed as it registered when the catalog was made.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
from pathlib import Path

from tlarena.data.paths import cache_root

VERSION = 1   # of the catalog's own layout


def read(plugins: tuple[str, ...]) -> dict | None:
    """The tables and problems saved for these plugins, or None when they may have changed."""
    try:
        return json.loads(_path(plugins).read_text())
    except (OSError, ValueError):
        return None


def write(plugins: tuple[str, ...], tables: dict[str, tuple[list[str], list[list[str]]]],
          problems: list[str]) -> dict:
    """Save ``tables`` (kind → header, rows) and the plugins' ``problems``; the catalog as ``read``
    returns it. Written atomically: a concurrent ``list`` reads the old catalog or this one."""
    catalog = {"tables": {kind: [header, rows] for kind, (header, rows) in tables.items()},
               "problems": problems}
    path = _path(plugins)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(catalog))
        os.replace(tmp, path)
    except OSError:
        pass   # a read-only cache: listing works, just without the shortcut next time
    return json.loads(json.dumps(catalog))


def _path(plugins: tuple[str, ...]) -> Path:
    return cache_root() / "catalog" / f"{_fingerprint(plugins)}.json"


def _fingerprint(plugins: tuple[str, ...]) -> str:
    entry_points = sorted((e.name, e.value, e.dist.name if e.dist else "", e.dist.version if e.dist else "")
                          for e in importlib.metadata.entry_points(group="tlarena"))
    packages = {"tlarena", *(value.split(":")[0].split(".")[0] for _, value, _, _ in entry_points)}
    if plugins and "" not in sys.path:
        sys.path.insert(0, str(Path.cwd()))   # where load_arena looks for --plugin modules
    files = [_files(name) for name in sorted({*packages, *(m.split(".")[0] for m in plugins)})]
    text = json.dumps([VERSION, sys.prefix, sys.version, entry_points, list(plugins),
                       os.getcwd() if plugins else "", files])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _files(package: str) -> list:
    """(path, size, modification time) of each .py file of a top-level module or package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return [package, None]
    roots = [Path(p) for p in spec.submodule_search_locations or []] or \
            ([Path(spec.origin)] if spec.origin else [])
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append([str(path), stat.st_size, stat.st_mtime_ns])
    return [package, found]
