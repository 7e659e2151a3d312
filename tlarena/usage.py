"""Command-line usage errors and the parsers of list-valued options, shared by cli and commands."""
from __future__ import annotations

import re

_PAIR = re.compile(r"^[^,\s]+->[^,\s]+$")


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


def csv_items(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise UsageError(f"empty item in list {text!r}")
    _once_each(items, text)
    return items


def _once_each(items: list, text: str) -> None:
    # `--seeds 0,1,1` is more likely a typo for 0,1,2 than a wish: the grid counted its runs twice
    # and ran them once
    repeated = list(dict.fromkeys(str(item) for item in items if items.count(item) > 1))
    if repeated:
        raise UsageError(f"list {text!r} names {', '.join(repeated)} more than once")


MAX_SEED = 2**32 - 1   # numpy's global seed takes no more (and no negative one)


def seed_list(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in csv_items(text)]
    except ValueError:
        seeds = None
    if seeds is None or not all(0 <= seed <= MAX_SEED for seed in seeds):
        raise UsageError(f"--seeds takes whole numbers from 0 to {MAX_SEED} separated by commas, "
                         f"e.g. 0,1,2; got {text!r}")
    _once_each(seeds, text)   # 0 and 00 are one seed
    return seeds


def pair_names(text: str) -> list[str]:
    pairs = csv_items(text)
    for pair in pairs:
        if not _PAIR.match(pair):
            raise UsageError(f"malformed pair {pair!r}: write SOURCE->TARGET, e.g. "
                             f"synth-digits->uci-digits (quote it in the shell)")
    return pairs
